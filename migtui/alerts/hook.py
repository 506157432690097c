"""An alert's command: the alert as one JSON object on its stdin, a time limit, never a reason to stop.

The command runs in a session of its own, so that when its time is up (or
migtui closes) the whole process group is killed, a shell script's children
too. What goes wrong is returned as one line for the log;
nothing here raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from typing import Any

STDERR_KEPT = 400
"""Characters of a failing command's stderr quoted in the log line."""


async def run_hook(argv: list[str], alert: dict[str, Any], timeout: float) -> str | None:
    """Run ``argv`` with ``alert`` on stdin; None when it exited 0, else why not (one line)."""
    name = argv[0]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
    except OSError as error:
        return f"{name}: cannot run: {error.strerror or error}"
    try:
        async with asyncio.timeout(timeout):
            _, err = await process.communicate((json.dumps(alert) + "\n").encode())
    except TimeoutError:
        _kill_group(process)
        await process.wait()
        return f"{name}: killed after {timeout:g} s (the alert's time limit)"
    except BaseException:  # cancelled (migtui closing): the command goes with it
        _kill_group(process)
        with contextlib.suppress(Exception):
            await asyncio.shield(process.wait())
        raise
    if process.returncode == 0:
        return None
    said = " ".join(err.decode(errors="replace").split())[:STDERR_KEPT]
    code = process.returncode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return f"{name}: {how}" + (f": {said}" if said else "")


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
