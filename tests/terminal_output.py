"""What a command leaves on a user's terminal, for the tests that check it is only migtui's own.

Each helper takes the command line that starts migtui (``python -m migtui`` of the
checkout, or the ``migtui`` script of a fresh virtual environment), so the same
checks run against both.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
from collections.abc import Sequence
from pathlib import Path

from cli_process import Terminal

UNREACHABLE_SSH_VM = "a=ssh://root@127.0.0.1:1/x.qmp"
"""An SSH VM whose host refuses the connection at once: asyncssh is loaded, no login happens."""
UNREACHABLE_SSH_LINE = "migtui: a: host 127.0.0.1 down: cannot reach root@127.0.0.1:1: Connect call failed ('127.0.0.1', 1)"
"""All a command on :data:`UNREACHABLE_SSH_VM` writes on stderr."""

ALTERNATE_SCREEN_ON, ALTERNATE_SCREEN_OFF = "\x1b[?1049h", "\x1b[?1049l"
# CSI and OSC sequences, and the two-byte escapes (charset and keypad modes): drawing, not text.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def run(command: Sequence[str], *argv: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *argv], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def foreign_lines(stderr: str) -> list[str]:
    """The lines of stderr that are not migtui's own (``migtui: ...``)."""
    return [line for line in stderr.splitlines() if not line.startswith("migtui: ")]


def dashboard_leftovers(command: Sequence[str], *argv: str, shows: str, size: tuple[int, int] = (24, 80),
                        timeout: float = 60, visits: Sequence[tuple[bytes, str]] = ()) -> str:
    """Run the dashboard in a terminal until it shows ``shows``, press each of ``visits``' keys
    until the screen shows its text, quit it with q, and return the text it wrote outside its
    own screen (before switching to the alternate screen and after leaving it), escape
    sequences removed: what stays in the user's terminal."""
    with Terminal() as terminal:
        rows, columns = size
        fcntl.ioctl(terminal.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        process = subprocess.Popen([*command, *argv], stdin=terminal.slave, stdout=terminal.slave,
                                   stderr=terminal.slave, env=dict(os.environ, TERM="xterm-256color"),
                                   start_new_session=True)
        try:
            terminal.read_until(shows, timeout)
            for keys, then in visits:
                terminal.type(keys)
                terminal.read_until(then, timeout)
            terminal.type(b"q")
            code = terminal.wait_exit(process, timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert code == 0, f"the dashboard exited with {code}: {terminal.seen!r}"
        seen = terminal.seen
    before, _, inside = seen.partition(ALTERNATE_SCREEN_ON)
    _, off, after = inside.rpartition(ALTERNATE_SCREEN_OFF)
    assert off, f"the dashboard never left its screen: {seen[-400:]!r}"
    return _ESCAPES.sub("", before + after).strip()


def report_html(command: Sequence[str], db: Path, page: Path) -> subprocess.CompletedProcess[str]:
    """``report --html`` with a matplotlib of no cache yet, as on a user's first run."""
    config = page.parent / "mplconfig"
    config.mkdir(exist_ok=True)
    return run(command, "report", str(db), "--html", str(page), env=dict(os.environ, MPLCONFIGDIR=str(config)))
