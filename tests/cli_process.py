"""Running ``migtui`` as a user does: a separate process, its own pipes or a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MIGTUI = (sys.executable, "-m", "migtui")


async def run_cli(*argv: str, config_home: Path | None = None, timeout: float = 60) -> tuple[int, str, str]:
    """Run to its end; (exit code, stdout, stderr)."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(config_home)) if config_home else None
    process = await asyncio.create_subprocess_exec(*MIGTUI, *argv, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(), err.decode()


@contextlib.contextmanager
def started_cli(*argv: str, **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Start it for the caller to read, signal and wait for; killed at the end if it still runs."""
    popen.setdefault("stdin", subprocess.DEVNULL)
    # A child that hangs shows where: exit_code aborts it, and Python's fault handler prints its stacks.
    popen["env"] = dict(popen.get("env") or os.environ, PYTHONFAULTHANDLER="1")
    process = subprocess.Popen([*MIGTUI, *argv], **popen)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


async def read_line(stream: Any, timeout: float) -> str:
    """The next line of a child's pipe, without blocking the event loop."""
    line: bytes = await asyncio.wait_for(asyncio.to_thread(stream.readline), timeout)
    if not line:
        raise AssertionError("the command's output ended")
    return line.decode()


async def exit_code(process: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait (with a deadline) for the process to end.

    One that does not is aborted: started by :func:`started_cli`, it prints
    its threads' stacks on its stderr on the way (for the test to show)."""
    try:
        return await asyncio.to_thread(process.wait, timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 5)
        raise AssertionError(f"the command did not exit within {timeout:g} s") from None


class Terminal:
    """A pseudo-terminal for a child's stdin and stderr: what a person at the keyboard sees and types."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.seen = ""

    def read_until(self, text: str, timeout: float = 20.0) -> str:
        """Everything shown so far once ``text`` appears; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the terminal never showed {text!r}; it showed {self.seen!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"the terminal closed before showing {text!r}; it showed {self.seen!r}")
                self.seen += chunk.decode(errors="replace")
        return self.seen

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_exit(self, process: subprocess.Popen[bytes], timeout: float) -> int:
        """The child's exit code once it has exited and the terminal holds nothing more. The
        terminal is read all along: a full terminal would block the child's writes (a dashboard
        that paints while it quits, or ssh passing on what the far end painted), and so its exit."""
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            chunk = b""
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                self.seen += chunk.decode(errors="replace")
            if not chunk and process.poll() is not None:
                return process.returncode
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not exit within {timeout:g} s: {self.seen[-400:]!r}")

    def close_master(self) -> None:
        """The terminal goes away (its window closed, the SSH session lost): the child's writes fail."""
        os.close(self.master)
        self.master = -1

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
