"""Shared fixtures: real QEMU labs, independent QMP clients, and a leak check.

- ``lab``: an empty :class:`migtui.lab.Lab` in a fresh short directory,
  closed (every QEMU stopped) after the test, pass or fail.
- ``libvirt_lab``: a :class:`migtui.lab.libvirt_lab.LibvirtLab` with its two
  hosts hv1 and hv2 started (libvirtd on each, no domain yet), closed after
  the test, pass or fail (every process of its hosts ended).
- ``lab_dir``: a fresh short directory for labs a test runs itself (CLI,
  subprocesses). Short, because a unix socket path must fit in 108 bytes
  and pytest's ``tmp_path`` can be longer than that.
- ``recorded``: one recording of a real lab migration for the whole run
  (tests/recorded_lab.py), read by the recorder, report and install tests.
- ``ctl``: ``async with ctl(vm) as client`` (or ``client = await ctl(vm)``)
  opens a :class:`migtui.lab.control.ControlClient` on the VM's second QMP
  socket, independent of migtui's; every call has a timeout.

There is no skip when QEMU is missing: ``make test`` installs it, and a
missing QEMU must fail loudly.

At the end of the session, any QEMU (or lab supervisor, sshd, libvirtd, virtlogd, Chromium,
``migtui serve`` or its viewers) started by this test run that still runs is
killed and the session fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import pytest_asyncio
import pytest_asyncio

from migtui.lab import VM, Lab
from migtui.lab.control import ControlClient
from migtui.lab.libvirt_lab import LibvirtLab
from recorded_lab import LabRecording, make_recording

_session_root: Path | None = None


def session_root() -> Path:
    """One short directory under /tmp holding every lab of this test run."""
    global _session_root
    if _session_root is None:
        _session_root = Path(tempfile.mkdtemp(prefix="migtui-t-", dir="/tmp"))
    return _session_root


@pytest.fixture
def lab_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="lab-", dir=session_root()))


@pytest.fixture
async def lab(lab_dir: Path) -> AsyncIterator[Lab]:
    async with Lab(lab_dir) as the_lab:
        yield the_lab


@pytest_asyncio.fixture(loop_scope="session")
async def libvirt_lab(lab_dir: Path) -> AsyncIterator[LibvirtLab]:
    async with LibvirtLab(lab_dir) as the_lab:
        await the_lab.start_hosts(2)
        yield the_lab


@pytest.fixture(scope="session")
def recorded() -> Iterator[LabRecording]:
    # A short path of its own: unix socket paths must fit in 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="migtui-rec-", dir="/tmp"))
    yield make_recording(directory)
    shutil.rmtree(directory, ignore_errors=True)


class _ControlConnection:
    """What ``ctl(vm)`` returns: an async context manager, or an awaitable."""

    def __init__(self, path: Path, timeout: float, opened: list[ControlClient]) -> None:
        self._path, self._timeout, self._opened = path, timeout, opened
        self._client: ControlClient | None = None

    async def _open(self) -> ControlClient:
        self._client = await ControlClient.connect(self._path, self._timeout)
        self._opened.append(self._client)
        return self._client

    def __await__(self) -> Generator[Any, None, ControlClient]:
        return self._open().__await__()

    async def __aenter__(self) -> ControlClient:
        return await self._open()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client:
            await self._client.close()


@pytest.fixture
async def ctl() -> AsyncIterator[Callable[..., _ControlConnection]]:
    opened: list[ControlClient] = []

    def connect(vm: VM | str | Path, timeout: float = 10.0) -> _ControlConnection:
        path = vm.ctl_path if isinstance(vm, VM) else Path(vm)
        return _ControlConnection(path, timeout, opened)

    yield connect
    for client in opened:  # closing twice is harmless
        await client.close()


FAULT_TABLE: list[tuple[str, ...]] = []
"""Rows (fault, faulty VM's state, app, watch, bystander, memory) the fault campaign records."""


@pytest.fixture(scope="session")
def fault_table() -> list[tuple[str, ...]]:
    return FAULT_TABLE


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FAULT_TABLE:
        return
    header = ("fault", "the faulty VM said", "app", "watch", "bystander", "memory")
    widths = [max(len(row[i]) for row in (header, *FAULT_TABLE)) for i in range(len(header))]
    terminalreporter.section("fault campaign")
    for row in (header, *FAULT_TABLE):
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _leftovers() -> dict[int, str]:
    """QEMUs and lab supervisors this test run started that still run: children
    of this process, or processes whose command line names the session's labs."""
    found: dict[int, str] = {}
    me = os.getpid()
    root = str(_session_root).encode() if _session_root else None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, parent = stat[0], int(stat[1])
        ours = parent == me or (root is not None and root in cmdline)
        wanted = (b"qemu-system" in cmdline or b"migtui.lab.supervisor" in cmdline or b"sshd" in cmdline
                  or b"libvirtd" in cmdline or b"virtlogd" in cmdline or b"libvirt_holder" in cmdline
                  or b"chromium" in cmdline or b"\0serve\0" in cmdline or b"\0--follow\0" in cmdline)
        if state != "Z" and ours and wanted:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")[:160]
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = _leftovers()
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leftovers:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line("")
            reporter.write_line(f"ERROR: the test session left {len(leftovers)} process(es) running (now killed):", red=True)
            for pid, cmdline in leftovers.items():
                reporter.write_line(f"  {pid} {cmdline}", red=True)
    if _session_root is not None:
        if session.exitstatus == 0:
            shutil.rmtree(_session_root, ignore_errors=True)
        elif reporter:
            reporter.write_line(f"lab directories kept for inspection: {_session_root}")
