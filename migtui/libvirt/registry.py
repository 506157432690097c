"""The libvirt hosts of an inventory and their domains: each domain one VM, wherever it runs.

A domain is known by its UUID. It is one VM of the fleet while any host of
the inventory has it (defined or running), named by its domain name (with
``@host`` only where another domain of that name came first). Its *home*
is the host it runs on; a domain that migrates runs on two hosts for a
moment (paused, receiving, on the destination), and stays home on its
source until it runs on the destination and no longer on the source.

Each host is listed again when one of its domains' lifecycle events comes
(defined, started, stopped, undefined, migrated), and when the host's
connection comes back: domains come and go while migtui runs, nothing
needs a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from migtui.host_entry import HostEntry
from migtui.libvirt import binding
from migtui.libvirt.domain_session import DomainSession
from migtui.libvirt.host import EVENT_LIFECYCLE, DomainEvent, DomainFacts, HostUnavailable, LibvirtFailure, LibvirtHost
from migtui.qmp.gate import CommandGate
from migtui.qmp.session import COMMAND_TIMEOUT
from migtui.qmp.tasks import cancel_all

log = logging.getLogger(__name__)

Add = Callable[[DomainSession], None]
Remove = Callable[[str, str], None]
Moved = Callable[[str, str], None]
HostHandler = Callable[[LibvirtHost], None]


class DomainRegistry:
    def __init__(self, entries: Iterable[HostEntry], gate: CommandGate, *, add: Add, remove: Remove,
                 moved: Moved, command_timeout: float = COMMAND_TIMEOUT) -> None:
        binding.require()  # no libvirt-python: one line saying how to add it, before anything starts
        self.hosts = {entry.name: LibvirtHost(entry) for entry in entries if entry.libvirt}
        self.gate = gate
        self.sessions: dict[str, DomainSession] = {}
        """By UUID."""
        self.places: dict[str, dict[str, DomainFacts]] = {}
        """Where each domain is now: UUID -> host name -> how the host lists it."""
        self._ran: dict[str, set[str]] = {}
        """UUID -> the hosts this registry has seen the domain run on (not only receive it)."""
        self._add, self._remove, self._moved = add, remove, moved
        self._command_timeout = command_timeout
        self._host_handlers: list[HostHandler] = []
        self._looking: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self.listed: dict[str, asyncio.Event] = {name: asyncio.Event() for name in self.hosts}
        """Set once each host's domains were listed (a CLI waits for them before it looks a VM up)."""
        for host in self.hosts.values():
            host.on_change(self._host_changed)
            host.on_domain(self._event)

    def on_host(self, handler: HostHandler) -> Callable[[], None]:
        self._host_handlers.append(handler)
        return lambda: self._host_handlers.remove(handler)

    def start(self) -> None:
        for host in self.hosts.values():
            host.start()

    async def close(self) -> None:
        await cancel_all(list(self._looking.values()))
        await asyncio.gather(*(session.close() for session in self.sessions.values()))
        await asyncio.gather(*(host.close() for host in self.hosts.values()))
        await binding.settle()

    async def wait_listed(self, timeout: float) -> None:
        """Until every host's domains were listed once, or ``timeout`` passed (a host down: no error)."""
        waits = [asyncio.create_task(event.wait()) for event in self.listed.values()]
        if waits:
            _, late = await asyncio.wait(waits, timeout=timeout)
            for wait in late:
                wait.cancel()

    def session_named(self, name: str) -> DomainSession | None:
        return next((session for session in self.sessions.values() if session.name == name), None)

    # -- what changes the picture -----------------------------------------------------

    def _host_changed(self, host: LibvirtHost) -> None:
        for handler in list(self._host_handlers):
            handler(host)
        if host.up:
            self.look(host.name)
        elif host.error is not None and host.state.value == "down":
            self.listed[host.name].set()  # a host that is down has nothing more to tell for now

    def _event(self, event: DomainEvent) -> None:
        session = self.sessions.get(event.uuid)
        if session is not None:
            session.on_libvirt_event(event)
        if event.kind == EVENT_LIFECYCLE:
            self.look(event.host)

    def look(self, host: str) -> None:
        """List the host's domains again (soon; once more if a listing runs)."""
        running = self._looking.get(host)
        if running is not None and not running.done():
            self._again.add(host)
            return
        self._looking[host] = asyncio.create_task(self._list(host), name=f"libvirt {host} domains")

    async def _list(self, name: str) -> None:
        host = self.hosts[name]
        while True:
            self._again.discard(name)
            try:
                found = await host.domains()
            except (HostUnavailable, LibvirtFailure) as failure:
                log.info("%s: cannot list its domains: %s", name, failure)
                self.listed[name].set()
                return
            for places in self.places.values():
                places.pop(name, None)
            for facts in found:
                self.places.setdefault(facts.uuid, {})[name] = facts
            self._reconcile()
            self.listed[name].set()
            if name not in self._again:
                return

    def _reconcile(self) -> None:
        for uuid in [uuid for uuid, places in self.places.items() if not places]:
            del self.places[uuid]
            self._ran.pop(uuid, None)
            session = self.sessions.pop(uuid, None)
            if session is not None:
                self._remove(session.name, "its domain is gone (undefined on every host migtui watches)")
        for uuid, places in self.places.items():
            home = self._home(uuid, places)
            session = self.sessions.get(uuid)
            if session is None:
                facts = places[home]
                taken = {s.name for s in self.sessions.values()}
                name = facts.name if facts.name not in taken else f"{facts.name}@{home}"
                session = DomainSession(name, uuid, self.hosts[home], self.hosts, self.on_host, self.gate,
                                        command_timeout=self._command_timeout)
                self.sessions[uuid] = session
                self._add(session)
            elif home != session.home.name:
                session.move(self.hosts[home])
                self._moved(session.name, home)

    def _home(self, uuid: str, places: dict[str, DomainFacts]) -> str:
        ran = self._ran.setdefault(uuid, set())
        ran.update(host for host, facts in places.items() if _home_rank(facts) == 0)
        session = self.sessions.get(uuid)
        return home_of(places, session.home.name if session is not None else None, ran)


def home_of(places: dict[str, DomainFacts], current: str | None, ran: set[str]) -> str:
    """Which host of ``places`` (host name → the domain there) is the domain's home.

    The current home stays while the domain is active there (a migration's source, paused at the
    switchover, stays home until it is gone), unless the domain was never seen to run there (``ran``:
    where it was seen to run) and another place fits better: then the current home is a migration's
    destination, found first by a process started mid-migration. Otherwise the place that fits best
    (:func:`_home_rank`)."""
    if current in places:
        here = _home_rank(places[current])
        if (places[current].active and current in ran) or not any(_home_rank(facts) < here
                                                                   for facts in places.values()):
            return current
    best = min(_home_rank(facts) for facts in places.values())
    return min(name for name, facts in places.items() if _home_rank(facts) == best)


# libvirt's states and reasons (virDomainState, virDomainRunningReason, virDomainPausedReason).
_RUNNING, _PAUSED = 1, 3
_PAUSED_MIGRATION = 2
_RUNNING_POSTCOPY, _RUNNING_POSTCOPY_FAILED = 10, 11
_PAUSED_POSTCOPY, _PAUSED_POSTCOPY_FAILED = 12, 13


def _home_rank(facts: DomainFacts) -> int:
    """How well a place fits as the domain's home, lowest best. A migration's destination waits paused
    (reason "migrating") while its source runs, and runs (reason "post-copy") while its source is paused
    in postcopy: either way the source holds the migration's job, and libvirt keeps the destination's
    own jobs waiting for the length of its incoming migration (measured: a settings read waited 30 s)."""
    if not facts.active:
        return 4
    if (facts.state == _RUNNING and facts.reason not in (_RUNNING_POSTCOPY, _RUNNING_POSTCOPY_FAILED)) or (
            facts.state == _PAUSED and facts.reason in (_PAUSED_POSTCOPY, _PAUSED_POSTCOPY_FAILED)):
        return 0  # runs on its own, or is the paused source of a postcopy
    if facts.state == _RUNNING:
        return 1  # a postcopy's destination: runs, but its memory still comes from the source
    if facts.state == _PAUSED and facts.reason == _PAUSED_MIGRATION:
        return 3  # a migration's destination waiting for the switchover (or both ends of an offline one)
    return 2  # paused by its admin, or by an error
