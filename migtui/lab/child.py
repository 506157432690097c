"""A child process that dies with its parent, watched without threads.

Every QEMU (and ``qemu-img``) the lab starts goes through :class:`Child`:

- ``PR_SET_PDEATHSIG`` = SIGKILL is set in the child before ``exec``, so the
  kernel kills it when the process that started it dies, even by SIGKILL:
  a crashed test run or a killed supervisor leaves no orphan QEMU behind.
- Its exit is noticed through a pidfd registered with the event loop (no
  child-watcher thread), then reaped at once so no zombie lingers.
- :meth:`Child.stop` asks politely (SIGTERM) and insists (SIGKILL) after a
  deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from migtui.lab.errors import LabError

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)  # looked up before fork: the child only calls it


def _die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` that ties the child's life to ``parent_pid``: ``signum`` when it dies."""

    def preexec() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signum)

    return preexec


class Child:
    """One running child process; ``returncode`` is set once it has exited."""

    def __init__(self, popen: subprocess.Popen[bytes], output_path: Path) -> None:
        self._popen = popen
        self.output_path = output_path
        """File that receives the child's stdout and stderr."""
        self.started = time.monotonic()
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pidfd = os.pidfd_open(popen.pid)
        asyncio.get_running_loop().add_reader(self._pidfd, self._on_exit)

    @classmethod
    def spawn(cls, argv: Sequence[str], output_path: Path, *, death_signal: int = signal.SIGKILL,
              pass_fds: Sequence[int] = ()) -> Child:
        """Start ``argv`` with its output appended to ``output_path``. ``death_signal``:
        what the kernel sends it when its parent dies (a child that cleans up after
        itself catches SIGTERM); ``pass_fds``: descriptors it inherits."""
        with open(output_path, "ab") as output:
            try:
                popen = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    close_fds=True,
                    pass_fds=tuple(pass_fds),
                    # prctl must run in the child between fork and exec; the lab is
                    # single-threaded asyncio, where preexec_fn is safe.
                    preexec_fn=_die_with_parent(os.getpid(), death_signal),
                )
            except FileNotFoundError:
                raise LabError(f"{argv[0]} is not installed (run `make qemu`)") from None
        return cls(popen, output_path)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit status (negative for a signal), or None while running."""
        return self._exited.result() if self._exited.done() else None

    def _on_exit(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        code = self._popen.wait()  # the pidfd is readable: the child has exited, reap it now
        if not self._exited.done():
            self._exited.set_result(code)

    async def wait(self) -> int:
        """Wait for the exit; returns the exit status."""
        return await asyncio.shield(self._exited)

    def signal(self, signum: int) -> None:
        if self.returncode is None:
            # it may exit between the check and the kill; the reader will reap it
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.signal(signal.SIGKILL)

    async def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL if it is still running after ``timeout`` seconds."""
        self.signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                return await self.wait()
        except TimeoutError:
            self.kill()
            return await self.wait()

    def output_tail(self, max_bytes: int = 4096) -> str:
        """The end of what the child wrote, on one line, for error messages."""
        return one_line(read_tail(self.output_path, max_bytes))


def read_tail(path: Path, max_bytes: int = 4096) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - max_bytes))
            return file.read().decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


def one_line(text: str) -> str:
    """Several lines of a tool's output as one line (errors are one line)."""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


async def run(argv: Sequence[str], output_path: Path, timeout: float = 30.0) -> None:
    """Run a short command to the end; LabError with its output if it fails."""
    child = Child.spawn(argv, output_path)
    try:
        async with asyncio.timeout(timeout):
            code = await child.wait()
    except TimeoutError:
        await child.stop()
        raise LabError(f"{argv[0]} did not finish within {timeout:g} s") from None
    if code != 0:
        raise LabError(f"{' '.join(argv)} failed (exit {code}): {child.output_tail(1000)}")
