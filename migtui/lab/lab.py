"""The lab: a set of real QEMU VMs in one directory, for the demo and the tests.

```python
async with Lab(directory) as lab:        # closing stops every QEMU it started
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=32, dirty_rate_mib_s=64)
    dst = await lab.start_destination("vm1-dst", like=src)
```

A destination waits with ``-incoming defer``. QEMU exits after any failed or
cancelled incoming migration, so the lab watches every destination and
starts a fresh one under the same name and sockets when it exits (unless
the lab stopped it): a lab survives any number of migrations. The previous
process's stderr, where QEMU explains the failure, is kept as
``NAME.stderr.1`` (older ones ``.2`` ... ``.5``) and in ``VM.exits``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from migtui.host_entry import NAME_PATTERN
from migtui.lab.child import Child, read_tail, run
from migtui.lab.control import ControlClient
from migtui.lab.errors import LabError
from migtui.lab.guest import GuestSpec, write_guest
from migtui.lab.inventory_writer import render_inventory
from migtui.lab.vm import VM, ExitRecord

_log = logging.getLogger(__name__)

KEPT_STDERRS = 5
KEPT_EXITS = 20
QUICK_EXIT_S = 1.0
"""A destination that lived less than this waits RESTART_PAUSE_S before its
successor starts, so a destination that cannot start never spins a core."""
RESTART_PAUSE_S = 1.0
RESTART_ATTEMPTS = 3

PerVM = float | Sequence[float]
"""One value for every VM, or one value each."""


class Lab:
    """Owns QEMU processes in ``directory``; use it as an async context manager."""

    def __init__(
        self,
        directory: str | Path,
        *,
        qemu: str = "qemu-system-x86_64",
        qemu_img: str = "qemu-img",
        start_timeout: float = 15.0,
        stop_timeout: float = 5.0,
        on_change: Callable[[VM], None] | None = None,
        host: str | None = None,
        qmp_dir: Path | None = None,
        wrap: Sequence[str] = (),
    ) -> None:
        self.directory = Path(directory).resolve()
        self.host, self.qmp_dir, self.wrap = host, qmp_dir, tuple(wrap)
        """A lab host's name, private QMP directory and nsenter prefix (see VM)."""
        self.qemu = qemu
        self.qemu_img = qemu_img
        self.start_timeout = start_timeout
        """Seconds a QEMU gets to open its QMP sockets."""
        self.stop_timeout = stop_timeout
        """Seconds between SIGTERM and SIGKILL when stopping."""
        self.on_change = on_change
        """Called after a VM started, exited or was restarted."""
        self._vms: dict[str, VM] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._closing = False

    async def __aenter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def vms(self) -> dict[str, VM]:
        """Every VM started so far, by name, in start order."""
        return dict(self._vms)

    def __getitem__(self, name: str) -> VM:
        try:
            return self._vms[name]
        except KeyError:
            known = ", ".join(self._vms) or "none"
            raise LabError(f"no lab VM named {name!r} (known: {known})") from None

    async def start_source(
        self,
        name: str,
        mem_mib: int = 128,
        dirty_mib: float = 32,
        dirty_rate_mib_s: float = 64,
        disk: bool = False,
        *,
        qemu: str | None = None,
        machine: str = "pc",
    ) -> VM:
        """Start a VM running the dirtying guest (``dirty_rate_mib_s`` 0: idle,
        ``math.inf``: as fast as it can); returns once its QMP sockets exist.
        ``qemu`` runs it with another QEMU binary than the lab's."""
        guest = GuestSpec(dirty_mib, dirty_rate_mib_s)
        try:
            guest.check(mem_mib)
        except ValueError as error:
            raise LabError(f"{name}: {error}") from None
        self._claim(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        vm = VM(name, "source", self.directory, mem_mib, guest, self.directory / f"{name}.guest.bin",
                host=self.host, qmp_dir=self.qmp_dir, wrap=self.wrap, qemu=qemu, machine=machine)
        write_guest(vm.guest_path, guest)
        if disk:
            vm.disk_path = self.directory / f"{name}.qcow2"
            argv = [self.qemu_img, "create", "-f", "qcow2", str(vm.disk_path), "1G"]
            await run(argv, self.directory / f"{name}.qemu-img.log")
        return await self._add(vm)

    async def _add(self, vm: VM) -> VM:
        """Keep ``vm`` and start it; a VM that never started is forgotten again."""
        self._vms[vm.name] = vm
        try:
            await self._launch(vm)
        except BaseException:
            del self._vms[vm.name]
            raise
        return vm

    async def start_destination(self, name: str, like: VM, *, mem_mib: int | None = None,
                                qemu: str | None = None) -> VM:
        """Start a VM waiting with ``-incoming defer``, with ``like``'s memory,
        guest image, disk (shared: QEMU opens it inactive until the
        migration completes) and machine type. ``mem_mib`` overrides the
        memory, e.g. to make a migration fail on purpose; ``qemu`` the QEMU
        binary (another release than the source's). Restarted whenever it exits."""
        self._claim(name)
        vm = VM(
            name,
            "destination",
            self.directory,
            mem_mib if mem_mib is not None else like.mem_mib,
            like.guest,
            like.guest_path,
            disk_path=like.disk_path,
            source_name=like.name,
            host=self.host,
            qmp_dir=self.qmp_dir,
            wrap=self.wrap,
            qemu=qemu,
            machine=like.machine,
        )
        return await self._add(vm)

    async def up(
        self,
        n: int = 3,
        mem_mib: int = 128,
        dirty_mib: PerVM = 32,
        dirty_rate_mib_s: PerVM = 64,
        disk: bool = False,
    ) -> list[tuple[VM, VM]]:
        """Start vm1..vmN, each with a waiting vmK-dst. ``dirty_mib`` and
        ``dirty_rate_mib_s`` take one value for all or a sequence of N."""
        sizes, rates = _per_vm(dirty_mib, n, "dirty_mib"), _per_vm(dirty_rate_mib_s, n, "dirty_rate_mib_s")
        sources = await asyncio.gather(
            *(self.start_source(f"vm{k + 1}", mem_mib, sizes[k], rates[k], disk) for k in range(n))
        )
        destinations = await asyncio.gather(*(self.start_destination(f"{s.name}-dst", like=s) for s in sources))
        return list(zip(sources, destinations, strict=False))

    async def stop(self, name: str) -> None:
        """Stop one VM for good (SIGTERM, then SIGKILL): it is not restarted."""
        vm = self[name]
        vm.stopping = True
        if vm.process:
            await vm.process.stop(self.stop_timeout)
        if vm.watcher:  # let it record the exit before anyone starts a successor
            await asyncio.gather(vm.watcher, return_exceptions=True)

    async def kill(self, name: str) -> None:
        """SIGKILL one VM, as a crash would; returns once it is dead. A
        destination is then restarted like after any other exit."""
        vm = self[name]
        if vm.process:
            vm.process.kill()
            await vm.process.wait()

    async def restart(self, name: str) -> VM:
        """Stop a VM and start it again (a source boots its guest afresh)."""
        vm = self[name]
        await self.stop(name)
        vm.stopping = False
        vm.failure = None
        await self._launch(vm)
        return vm

    async def wait_restarted(self, name: str, old_pid: int | None, timeout: float = 30.0) -> VM:
        """Wait until ``name`` runs a process other than ``old_pid``, sockets ready."""
        vm = self[name]

        def restarted() -> bool:
            return vm.failure is not None or (vm.alive and vm.pid != old_pid)

        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(restarted)
            except TimeoutError:
                raise LabError(f"{name} was not restarted within {timeout:g} s") from None
        if vm.failure:
            raise LabError(vm.failure)
        return vm

    def write_inventory(self, path: str | Path, audit_log: str | Path | None = None) -> Path:
        """Write an inventory listing every VM of the lab (TOML, for migtui)."""
        path = Path(path)
        audit = Path(audit_log) if audit_log else self.directory / "audit.jsonl"
        path.write_text(render_inventory(self._vms.values(), audit.resolve()), encoding="utf-8")
        return path

    async def close(self) -> None:
        """Stop every QEMU the lab started and wait until they are gone."""
        self._closing = True
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        running = [vm.process for vm in self._vms.values() if vm.process and vm.alive]
        await asyncio.gather(*(p.stop(self.stop_timeout) for p in running))
        for vm in self._vms.values():  # QEMU killed by a signal leaves its sockets behind
            for path in vm.ready_paths:  # (a lab host's own sockets vanish with its /run)
                path.unlink(missing_ok=True)

    def _claim(self, name: str) -> None:
        if self._closing:
            raise LabError("the lab is closed")
        if not re.match(NAME_PATTERN, name):
            raise LabError(f"{name!r} is not a VM name (letters, digits, '_', '.', '-')")
        if (old := self._vms.get(name)) and old.alive:
            raise LabError(f"a lab VM named {name!r} is already running (pid {old.pid})")

    async def _launch(self, vm: VM) -> None:
        """Start ``vm``'s QEMU and return once both QMP sockets exist."""
        if reason := vm.check_paths():
            raise LabError(reason)
        for socket in vm.ready_paths:
            socket.unlink(missing_ok=True)  # a stale file would look like a ready socket
        _rotate(vm.stderr_path)
        child = Child.spawn(vm.qemu_argv(vm.qemu or self.qemu), vm.stderr_path)
        try:
            await self._wait_ready(vm, child)
        except BaseException:
            child.kill()
            await child.wait()
            raise
        if vm.stopping or self._closing:  # stopped while it was starting
            child.kill()
            await child.wait()
            raise LabError(f"{vm.name} was stopped while starting")
        vm.process = child
        task = asyncio.create_task(self._watch(vm, child), name=f"lab-watch-{vm.name}")
        vm.watcher = task
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)
        await self._notify(vm)

    async def _first_answer(self, vm: VM, child: Child, deadline: float) -> None:
        """One ``query-status`` answer on the ctl socket. The socket file exists
        from QEMU's bind(), a moment before its listen(): a refused connect
        then is retried while QEMU lives and time is left."""
        while True:
            try:
                async with await ControlClient.connect(vm.ctl_path, max(0.5, deadline - time.monotonic())) as client:
                    await client.execute("query-status")
                return
            except Exception:
                if child.returncode is not None or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.02)

    async def _wait_ready(self, vm: VM, child: Child) -> None:
        """Wait for the sockets, then for one QMP answer on the ctl socket:
        QEMU opens its sockets before it creates devices and opens disks,
        so only an answer proves it got through its start-up."""
        deadline = time.monotonic() + self.start_timeout
        while not all(path.exists() for path in vm.ready_paths):
            if child.returncode is not None:
                raise self._start_failure(vm, child)
            if time.monotonic() > deadline:
                raise LabError(f"{vm.name}: QEMU did not open {vm.ctl_path} within {self.start_timeout:g} s")
            await asyncio.sleep(0.01)
        try:
            await self._first_answer(vm, child, deadline)
        except Exception as error:
            try:
                async with asyncio.timeout(2.0):
                    await child.wait()
            except TimeoutError:
                raise LabError(f"{vm.name}: QEMU does not answer on {vm.ctl_path}: {error}") from None
            raise self._start_failure(vm, child) from None

    @staticmethod
    def _start_failure(vm: VM, child: Child) -> LabError:
        return LabError(
            f"{vm.name}: QEMU exited with status {child.returncode} during start-up: "
            f"{child.output_tail(1000) or '(nothing on stderr)'}"
        )

    async def _watch(self, vm: VM, child: Child) -> None:
        """Record how ``child`` ended; bring a destination back."""
        code = await child.wait()
        lifetime = time.monotonic() - child.started
        vm.exits.append(ExitRecord(child.pid, code, lifetime, read_tail(vm.stderr_path, 8192)))
        del vm.exits[:-KEPT_EXITS]
        await self._notify(vm)
        if vm.process is not child or vm.stopping or self._closing or vm.role != "destination":
            return
        if lifetime < QUICK_EXIT_S:
            await asyncio.sleep(RESTART_PAUSE_S)
        last_error: LabError | None = None
        for attempt in range(RESTART_ATTEMPTS):
            if vm.stopping:
                return  # stopped during the pause
            try:
                await self._launch(vm)
                vm.restarts += 1
                return
            except LabError as error:
                last_error = error
                await asyncio.sleep(RESTART_PAUSE_S * 2**attempt)
        vm.failure = f"{vm.name}: gave up restarting: {last_error}"
        await self._notify(vm)

    async def _notify(self, vm: VM) -> None:
        async with self._changed:
            self._changed.notify_all()
        if self.on_change:
            try:
                self.on_change(vm)
            except Exception:
                _log.exception("lab on_change callback failed for %s", vm.name)


def _rotate(path: Path) -> None:
    """Move ``path`` to ``path.1``, ``.1`` to ``.2`` ... keeping KEPT_STDERRS."""
    if not path.exists():
        return
    for n in range(KEPT_STDERRS - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def _per_vm(value: PerVM, n: int, what: str) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)] * n
    values = [float(v) for v in value]
    if len(values) != n:
        raise LabError(f"{what}: {len(values)} values for {n} VMs")
    if any(math.isnan(v) for v in values):
        raise LabError(f"{what}: not a number")
    return values
