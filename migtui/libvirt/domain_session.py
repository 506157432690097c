"""A libvirt domain as a VM's session: QMP's questions, answered through libvirt.

migtui's poller, gate, policies, advice keys and controls speak QMP
(``query-migrate``, ``migrate-set-parameters``, ``migrate_cancel``). For a
domain libvirt manages, :class:`DomainSession` answers those commands with
libvirt's own calls (:mod:`migtui.libvirt.commands`), so every command still
passes the one gate (read-only, audit log), and everything that reads the
answers works unchanged. libvirt holds the domain's monitor; migtui never
opens a socket of its own to QEMU.

The VM is the domain's UUID, wherever it runs: its *home* is the host it
runs on (the source while it migrates), and it moves to the destination
once the domain runs there and no longer on the source.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection
from typing import Any

from migtui.errors import MigtuiError
from migtui.libvirt.commands import FLAG_CAPABILITIES, SETTABLE, SNAPSHOTS_ARE_LIBVIRTS, DomainCommands
from migtui.libvirt.host import (
    CALL_TIMEOUT,
    EVENT_JOB_COMPLETED,
    EVENT_LIFECYCLE,
    EVENT_MIGRATION_ITERATION,
    RESUMED,
    STOPPED,
    SUSPENDED,
    DomainEvent,
    HostUnavailable,
    LibvirtFailure,
    LibvirtHost,
)
from migtui.libvirt.translate import OPERATION_MIGRATION_OUT, migration_info
from migtui.model.link import LinkState
from migtui.qmp.errors import CommandTimeout, LinkLost, QEMURefused, Unreachable
from migtui.qmp.gate import CommandGate
from migtui.qmp.queries import Settable
from migtui.qmp.session import COMMAND_TIMEOUT
from migtui.qmp.session import VMSession as _VMSession
from migtui.qmp.tasks import cancel_all

HostChanges = Callable[[Callable[[LibvirtHost], None]], Callable[[], None]]
"""Subscribes a handler to every libvirt host's changes (up, down); returns an unsubscribe."""
RETRY_INTERVAL = 2.0
"""How soon a link whose host is up but whose domain did not answer is tried again."""
_POSTCOPY_DETAILS = frozenset({(SUSPENDED, 7), (RESUMED, 3)})
"""libvirt's lifecycle details that say a migration switched to postcopy (SUSPENDED_POSTCOPY, RESUMED_POSTCOPY)."""
_LIFECYCLE_EVENTS = {SUSPENDED: "STOP", RESUMED: "RESUME", STOPPED: "SHUTDOWN"}
"""QEMU's events for libvirt's lifecycle events of the domain on its home host."""


class DomainSession(_VMSession):
    def __init__(self, name: str, uuid: str, home: LibvirtHost, hosts: dict[str, LibvirtHost],
                 host_changes: HostChanges, gate: CommandGate | None = None, *,
                 command_timeout: float = COMMAND_TIMEOUT) -> None:
        # A command waits as long as libvirt itself waits for the domain's job lock.
        super().__init__(name, f"libvirt:{home.name}/{uuid}", gate, command_timeout=max(command_timeout,
                                                                                         CALL_TIMEOUT),
                         host_entry=home.entry)
        self.uuid = uuid
        self.home = home
        """The host the domain runs on (the source while it migrates away)."""
        self.hosts = hosts
        """Every libvirt host of the inventory, by name (where the domain may migrate to)."""
        self._host_changes = host_changes
        self.commands = DomainCommands(self)
        self.final: dict[str, Any] | None = None
        """The last migration's end as ``query-migrate`` answers it (libvirt forgets it with the job)."""
        self._unsubscribe: list[Callable[[], None]] = []
        self._host_changed = asyncio.Event()

    # -- the link follows the home host's connection ------------------------------

    @property
    def derives_events(self) -> bool:
        return True  # libvirt sends no migration status events: the poller derives them

    @property
    def settable(self) -> Settable | None:
        if self.home.entry.qmp_passthrough:
            return None
        # What libvirt has calls for; the rest of QEMU's settings need qmp_passthrough = true on the host.
        return Settable(frozenset(SETTABLE), frozenset(FLAG_CAPABILITIES))

    def consequence(self, names: Collection[str]) -> str | None:
        others = sorted(set(names) - set(SETTABLE) - set(FLAG_CAPABILITIES))
        if not others or not self.home.entry.qmp_passthrough:
            return None
        return (f"{', '.join(others)} {'goes' if len(others) == 1 else 'go'} through libvirt's monitor "
                f"passthrough: libvirt marks {self.name} tainted (custom-monitor) and may set its own values "
                "at the next migration.")

    @property
    def snapshots_refused(self) -> str | None:
        return SNAPSHOTS_ARE_LIBVIRTS

    @property
    def read_only_reason(self) -> str | None:
        if self.home.read_only:
            return f"host {self.home.name} is read-only (read_only = true: a read-only libvirt connection)"
        return None

    async def connect(self) -> None:
        if not self.home.up:
            self._set_link(LinkState.DISCONNECTED, self.home.describe_down())
            raise Unreachable(self.name, self.home.describe_down())
        try:
            self.version = await self.query("query-version")
        except (LinkLost, CommandTimeout, QEMURefused) as failure:
            reason = str(getattr(failure, "reason", None) or getattr(failure, "desc", None) or failure)
            self._set_link(LinkState.DISCONNECTED, reason)
            raise Unreachable(self.name, reason) from None
        self._set_link(LinkState.CONNECTED, None)

    def start(self) -> None:
        self._unsubscribe = [self._host_changes(self._on_libvirt_host)]
        self._tasks.append(asyncio.create_task(self._keep(), name=f"{self.name}-libvirt"))

    async def _keep(self) -> None:
        """Connected while the home host is up: the host's own reconnects bring the link back."""
        while True:
            if self.home.up and not self.connected:
                with contextlib.suppress(Unreachable):
                    await self.connect()
            self._host_changed.clear()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can lose a cancellation (migtui.qmp.tasks).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RETRY_INTERVAL if not self.connected else None):
                    await self._host_changed.wait()

    def _on_libvirt_host(self, host: LibvirtHost) -> None:
        if host is not self.home or self.state is LinkState.CLOSED:
            return
        if not host.up:
            self._set_link(LinkState.DISCONNECTED, host.describe_down())
        self._host_changed.set()

    def move(self, home: LibvirtHost) -> None:
        """The domain runs on another host now (its migration completed): follow it there."""
        if home is self.home:
            return
        self.home = home
        self.host_entry = home.entry
        self.address = f"libvirt:{home.name}/{self.uuid}"
        if not home.up:
            self._set_link(LinkState.DISCONNECTED, home.describe_down())
        self._host_changed.set()

    async def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        await self.commands.close()
        await cancel_all(self._tasks)
        self._set_link(LinkState.CLOSED, None)

    # -- commands -------------------------------------------------------------------

    def _transport_up(self) -> bool:
        return self.home.up and self.state is not LinkState.CLOSED

    async def _transport_execute(self, command: str, arguments: dict[str, Any] | None) -> object:
        try:
            return await self.commands.run(command, arguments or {})
        except LibvirtFailure as failure:
            raise QEMURefused(self.name, command, f"libvirt error {failure.code}", failure.message) from None
        except HostUnavailable as down:
            self._set_link(LinkState.DISCONNECTED, down.reason)
            raise OSError(down.reason) from None
        except MigtuiError as refused:  # said by migtui before libvirt was asked
            raise QEMURefused(self.name, command, "libvirt", str(refused)) from None

    # -- libvirt's events -----------------------------------------------------------

    def on_libvirt_event(self, event: DomainEvent) -> None:
        """An event of this domain on any host (the registry sends them)."""
        if event.kind == EVENT_JOB_COMPLETED and event.figures.get("operation") == OPERATION_MIGRATION_OUT:
            # From the source, which may no longer be the domain's home when it comes (it moved on).
            self.final = migration_info(event.figures)
            self.hear({"event": "JOB_COMPLETED", "data": {"status": self.final.get("status", "completed")}})
            return
        if event.host != self.home.name:
            return
        if event.kind == EVENT_LIFECYCLE and (event.event, event.detail) in _POSTCOPY_DETAILS:
            self.commands.postcopy = True
        if event.kind == EVENT_LIFECYCLE and event.event in _LIFECYCLE_EVENTS:
            self.hear({"event": _LIFECYCLE_EVENTS[event.event], "data": {"libvirt-detail": event.detail}})
        elif event.kind == EVENT_MIGRATION_ITERATION:
            self.wake_poll()  # a pass began: the poller reads it (and derives MIGRATION_PASS from it)
        elif event.kind == EVENT_JOB_COMPLETED:
            # The final figures come only here: the job's statistics are gone after it.
            self.final = migration_info(event.figures)
            self.hear({"event": "JOB_COMPLETED", "data": {"status": self.final.get("status", "completed")}})
