"""The terminal driver: a terminal that goes away ends the app, as ``q`` would.

A terminal can close under the dashboard with no SIGHUP reaching it: an SSH
session dropped under ``make demo`` (make, the session's leader, takes the
hangup and waits for its child), or a pty closed by the program that opened
it. Textual's writer thread then dies at its first failed write, and the
queue it emptied (30 writes) is never emptied again: a few frames later the
next write blocks the event loop for good. Nothing runs after that, not the
demo's teardown of its QEMUs and hosts, not even a SIGHUP or SIGTERM handler
of the loop.

Here the driver's terminal file drops writes once the terminal has gone,
so the writer thread lives on, and the first failure asks the app to exit,
with return code 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, cast

from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

GONE_RETURN_CODE = 1


class _Terminal:
    """The driver's terminal file: after a failed write or flush it drops everything, and
    ``gone`` is called once (from the writer thread)."""

    def __init__(self, file: IO[str], gone: Callable[[], None]) -> None:
        self._file = file
        self._gone = gone
        self.lost = False

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return self._file.write(text)
            except OSError:  # EIO: the terminal hung up
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._file.flush()
            except OSError:
                self._lose()

    def _lose(self) -> None:
        self.lost = True
        self._gone()

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding: the terminal's own
        return getattr(self._file, name)


class TerminalDriver(LinuxDriver):
    def __init__(self, app: App[Any], **options: Any) -> None:
        super().__init__(app, **options)
        loop = self._loop  # the app's; gone() is called on the writer thread

        def gone() -> None:
            loop.call_soon_threadsafe(app.exit, None, GONE_RETURN_CODE)

        if self._file is not None:
            self._file = cast(Any, _Terminal(self._file, gone))  # file-like: all the writer thread uses
