"""The audit log: one JSON line per mutating command, whatever its outcome."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migtui.errors import MigtuiError


class AuditLogError(MigtuiError):
    """The audit log cannot be written: no mutating command may go unlogged."""


class AuditLog:
    """Appends records to a JSON-lines file (created with its folder).

    Each write opens, appends and closes, so several migtui processes can share
    one log and a crash loses nothing already written.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def record(self, vm: str, command: str, arguments: dict[str, Any] | None, outcome: str,
               detail: Any = None) -> None:
        if self.path is None:
            return
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "vm": vm,
            "command": command,
            "arguments": arguments or {},
            "outcome": outcome,
        }
        if detail is not None:
            entry["result" if outcome == "ok" else "error"] = detail
        self._append(json.dumps(entry, default=str) + "\n")

    def check(self) -> None:
        """Fail now, before any command is sent, if the log cannot be written."""
        self._append("")

    def _append(self, line: str) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except OSError as error:
            raise AuditLogError(f"cannot write the audit log {self.path}: {error.strerror or error}") from None

    def entries(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
