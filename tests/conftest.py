"""Shared fixtures: real QEMU labs, independent QMP clients, and a leak check.

- ``lab``: an empty :class:`migtui.lab.Lab` in a fresh short directory,
  closed (every QEMU stopped) after the test, pass or fail.
- ``libvirt_lab``: a :class:`migtui.lab.libvirt_lab.LibvirtLab` with its two
  hosts hv1 and hv2 started (libvirtd on each, no domain yet), closed after
  the test, pass or fail (every process of its hosts ended).
- ``own_config_home`` (every test): ``XDG_CONFIG_HOME`` a fresh directory.
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

Under pytest-xdist (``make test`` runs ``-n 3 --dist loadgroup``) each worker is a
session of its own: it judges only what it started (its own children and its own
session directory) when it ends, and hands what it found (and its rows of the
fault table) to the controller, which reports them and fails the run. Tests that
share a costly fixture run on one worker: every user of ``recorded`` (one
recording for the run) in the group "recorded", and the tests of a module with a
module-scoped fixture in a group of their module, so each is built once.
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


@pytest.fixture(autouse=True)
def own_config_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every migtui it starts) reads and writes a config directory of its own: the
    machine's dashboard.toml, presets and inventory neither change what a test sees nor get written."""
    home = Path(tempfile.mkdtemp(prefix="config-", dir=session_root()))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


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


def _on_worker(config: pytest.Config) -> bool:
    """Whether this session is a pytest-xdist worker (the controller runs no test)."""
    return hasattr(config, "workerinput")


SHARED_FIXTURES = {"recorded"}
"""Session-scoped fixtures too costly to build on every worker: their users share one group."""


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups: dict[str, str] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        definitions = getattr(item, "_fixtureinfo", None)
        for name in getattr(item, "fixturenames", ()):
            defined = definitions.name2fixturedefs.get(name) if definitions else None
            if name in SHARED_FIXTURES:
                groups[module] = name
            elif defined and defined[-1].scope in ("package", "module", "class"):
                groups.setdefault(module, module)
    for item in items:
        group = groups.get(item.nodeid.split("::", 1)[0])
        if group and not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(group))


_REPORTED_BY_WORKERS: list[tuple[str, dict[int, str], str | None]] = []
"""(worker, its leftovers, its kept lab directory) as each worker ended."""


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", None) or {}
    FAULT_TABLE.extend(tuple(row) for row in output.get("fault_table", []))
    leftovers = {int(pid): cmdline for pid, cmdline in output.get("leftovers", [])}
    if leftovers or output.get("kept"):
        _REPORTED_BY_WORKERS.append((node.gateway.id, leftovers, output.get("kept")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = _leftovers()
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    worker = _on_worker(session.config)
    if worker:
        # The controller reports and fails the run: a worker's own exit status and terminal are not seen.
        output = session.config.workeroutput  # type: ignore[attr-defined]
        output["leftovers"] = [[pid, cmdline] for pid, cmdline in leftovers.items()]
        output["fault_table"] = [list(row) for row in FAULT_TABLE]
    reported = [("", leftovers, None)] + [(f"[{name}] ", found, kept) for name, found, kept in _REPORTED_BY_WORKERS]
    if any(found for _, found, _ in reported):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter and not worker:
            reporter.write_line("")
            for name, found, _ in reported:
                if found:
                    reporter.write_line(f"ERROR: {name}the test session left {len(found)} process(es) running "
                                        "(now killed):", red=True)
                    for pid, cmdline in found.items():
                        reporter.write_line(f"  {pid} {cmdline}", red=True)
    if _session_root is not None:
        if session.exitstatus == 0:
            shutil.rmtree(_session_root, ignore_errors=True)
        elif worker:
            session.config.workeroutput["kept"] = str(_session_root)  # type: ignore[attr-defined]
        elif reporter:
            reporter.write_line(f"lab directories kept for inspection: {_session_root}")
    if reporter and not worker:
        for name, _, kept in reported:
            if kept:
                reporter.write_line(f"{name}lab directories kept for inspection: {kept}")
