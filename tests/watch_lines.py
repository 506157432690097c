"""``migtui watch`` run as a user runs it: its lines read as they come, Ctrl+C to end it."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from typing import Any

from cli_process import exit_code


class Lines:
    """A child's stdout lines as they come (read by a thread: the test's loop never blocks)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.seen: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, b""):
            self.seen.append(line.decode().rstrip("\n"))

    def of(self, vm: str, word: str) -> list[str]:
        return [line for line in self.seen if f"  {vm}  {word}" in line]

    def objects(self, vm: str, since: int = 0) -> list[dict[str, Any]]:
        """``vm``'s lines of ``watch --json`` from line ``since`` on, as the objects they are."""
        told = (json.loads(line) for line in self.seen[since:] if line.startswith("{"))
        return [line for line in told if line.get("vm") == vm]

    def statuses(self, vm: str) -> list[str]:
        """The statuses of ``vm``'s MIGRATION lines, in order."""
        return [line.split("MIGRATION  status ")[1] for line in self.of(vm, "MIGRATION  ")]


async def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, as a user ends ``watch``: it ends at once and says nothing of its own insides."""
    process.send_signal(signal.SIGINT)
    assert await exit_code(process, 15) in (0, 130)
    assert process.stderr is not None
    err = process.stderr.read().decode()
    assert "Traceback" not in err, err
