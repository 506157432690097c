"""The fleet: a session, a poller and a state per VM, one stream of updates.

The fleet belongs to the App (or a CLI command), never to a screen: popping a
screen must not drop a connection. Subscribers are plain callables run in the
event loop; they must be quick (the dashboard posts a coalescing message).

VMs may come and go while it runs (a pattern's sockets,
:mod:`migtui.qmp.socket_finder`): subscribers hear :class:`VMAdded` and
:class:`VMRemoved`, and ``states`` holds the VMs of now.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from migtui.errors import UsageError
from migtui.host_entry import HostEntry
from migtui.inventory import VMEntry
from migtui.libvirt.registry import DomainRegistry
from migtui.model.events import QMPEvent
from migtui.model.link import LinkState
from migtui.model.policy import Policy
from migtui.model.status import FINAL_STATES
from migtui.model.vm_state import VMState
from migtui.qmp.gate import CommandGate
from migtui.qmp.hosts import HostPool
from migtui.qmp.path_finder import PathFinder
from migtui.qmp.policy import PolicyRunner
from migtui.qmp.poller import FAST_INTERVAL, SLOW_INTERVAL, VMPoller
from migtui.qmp.replies import qemu_version
from migtui.qmp.session import COMMAND_TIMEOUT, CONNECT_TIMEOUT, VMSession
from migtui.qmp.socket_finder import FIND_INTERVAL, SocketFinder
from migtui.qmp.tasks import cancel_all
from migtui.qmp.updates import Aspect, EventReceived, PolicyStep, SampleTaken, Update, VMAdded, VMChanged, VMRemoved
from migtui.qmp.where import host_of

log = logging.getLogger(__name__)

WAKE_EVENTS = frozenset({"MIGRATION", "MIGRATION_PASS", "JOB_STATUS_CHANGE", "STOP", "RESUME", "SHUTDOWN",
                         "JOB_COMPLETED"})  # the last: libvirt's
STATUS_EVENTS = frozenset({"STOP", "RESUME", "SHUTDOWN", "RESET"})

Subscriber = Callable[[Update], None]
Result = TypeVar("Result")

REREAD_TIMEOUT = 5.0
"""How long a change waits for its VMs' fresh state before it returns anyway."""


class Fleet:
    def __init__(self, entries: Iterable[VMEntry], gate: CommandGate | None = None, *,
                 fast: float = FAST_INTERVAL, slow: float = SLOW_INTERVAL,
                 connect_timeout: float = CONNECT_TIMEOUT, command_timeout: float = COMMAND_TIMEOUT,
                 hosts: Iterable[HostEntry] = (), find_interval: float = FIND_INTERVAL,
                 history: Path | None = None) -> None:
        """``history``: a recording to read what past migrations' paths carried (the inventory's
        ``[settings] history``); a recorder adds its own file."""
        self.gate = gate or CommandGate()
        self.hosts = HostPool(hosts)
        """The SSH hosts the VMs' sockets are on."""
        self.sessions: dict[str, VMSession] = {}
        self.states: dict[str, VMState] = {}
        self.pollers: dict[str, VMPoller] = {}
        self._subscribers: list[Subscriber] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.policies: dict[str, PolicyRunner] = {}
        """The policy each VM's migrations follow, if any."""
        self._policy_tasks: set[asyncio.Task[None]] = set()
        self._pace = (fast, slow)
        self._timeouts = (connect_timeout, command_timeout)
        self._polls: dict[str, asyncio.Task[None]] = {}
        self._unsubscribe: dict[str, list[Callable[[], None]]] = {}
        self._started = False
        entries = list(entries)
        self.finders = [SocketFinder(entry, self.hosts, add=self.add, remove=self._remove_soon,
                                     taken=self.sessions.__contains__, interval=find_interval)
                        for entry in entries if entry.pattern]
        """One per pattern entry: they add and remove its VMs as sockets come and go."""
        self.domains = DomainRegistry(self.hosts.entries.values(), self.gate, add=self._add_domain,
                                      remove=self._remove_soon, moved=self._domain_moved,
                                      command_timeout=command_timeout) if self.hosts.libvirt else None
        """The libvirt hosts' domains, VMs that come and go with them (None: no libvirt host)."""
        if self.domains is not None:
            self.hosts.others.update(self.domains.hosts)  # the header counts them with the SSH hosts
        self.paths = PathFinder(self.sessions, self.states, self.where, self._publish)
        """What each outgoing migration's path carries."""
        self.paths.history.add(history)
        self.paths.history.name_hosts(self.hosts.entries.values())
        for entry in entries:
            if not entry.pattern:
                self.add(entry)

    async def __aenter__(self) -> Fleet:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def start(self) -> None:
        self._subscribers.insert(0, self._run_policy)
        self._subscribers.insert(0, self.paths.on_update)
        self.hosts.start()
        self._started = True
        for name in self.sessions:
            self._run(name)
        if self.domains is not None:
            self.domains.start()
        for finder in self.finders:
            self._tasks.append(asyncio.create_task(finder.run(), name=f"find {finder.entry.qmp}"))

    async def close(self) -> None:
        await cancel_all([*self._tasks, *self._polls.values(), *self._policy_tasks, *self.paths.tasks])
        await asyncio.gather(*(session.close() for session in self.sessions.values()))
        if self.domains is not None:
            await self.domains.close()
        await self.hosts.close()

    # -- VMs that come and go ---------------------------------------------------

    def add(self, entry: VMEntry) -> None:
        """Watch one more VM (found by a pattern, or given): running at once if the fleet runs."""
        connect_timeout, command_timeout = self._timeouts
        session = VMSession(entry.name, self.hosts.address(entry), self.gate, connect_timeout=connect_timeout,
                            command_timeout=command_timeout, host_entry=self.hosts.entry_of(entry),
                            shared=bool(entry.shared))
        self.watch(session, VMState(entry.name, group=entry.group, notes=entry.notes, host=entry.host))

    def watch(self, session: VMSession, state: VMState) -> None:
        """Watch a VM through ``session`` (a QMP link, or a libvirt domain's)."""
        self.sessions[state.name] = session
        self.states[state.name] = state
        self.pollers[state.name] = VMPoller(session, state, self._publish, *self._pace)
        self._unsubscribe[state.name] = [session.on_link(self._on_link), session.on_event(self._on_event)]
        if self._started:
            self._run(state.name)
            self._publish(VMAdded(state.name, str(session.address)))

    def _add_domain(self, session: VMSession) -> None:
        host = session.host_entry.name if session.host_entry is not None else None
        self.watch(session, VMState(session.name, host=host))

    def _domain_moved(self, vm: str, host: str) -> None:
        if (state := self.states.get(vm)) is not None:
            state.host, state.moved_at = host, time.monotonic()
            self.pollers[vm].refresh_all()  # its run state and settings on the new host
            self._publish(VMChanged(vm, Aspect.LINK))

    def _run(self, name: str) -> None:
        self.sessions[name].start()
        self._polls[name] = asyncio.create_task(self.pollers[name].run(), name=f"{name}-poll")

    async def remove(self, name: str, reason: str) -> None:
        """Stop watching a VM: its link is let go, its state forgotten, subscribers told once."""
        session = self.sessions.pop(name, None)
        if session is None:
            return
        for unsubscribe in self._unsubscribe.pop(name, []):
            unsubscribe()  # its link's closing is this removal, not a line of its own
        del self.states[name], self.pollers[name]
        self.policies.pop(name, None)
        # Told in the same turn as the state goes: a subscriber that stops on seeing the VM gone (a
        # recorder closing) has its last word, and none hears from a VM the fleet no longer knows.
        self._publish(VMRemoved(name, reason))
        poll = self._polls.pop(name, None)
        try:
            await cancel_all([poll] if poll is not None else [])
        finally:  # also when the fleet closes meanwhile: it no longer knows this session
            await session.close()

    def _remove_soon(self, name: str, reason: str) -> None:
        task = asyncio.create_task(self.remove(name, reason), name=f"{name}-remove")
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def where(self, vm: str) -> str:
        """The VM's inventory host (``[[host]]`` name) when it has one, else where its QMP address points."""
        state = self.states.get(vm)
        if state is not None and state.host:
            return state.host
        session = self.sessions.get(vm)
        return host_of(session.address if session is not None else None)

    def session(self, name: str) -> VMSession:
        try:
            return self.sessions[name]
        except KeyError:
            known = ", ".join(self.sessions) or "none"
            raise UsageError(f"no VM named {name!r} (known: {known})") from None

    def apply_policy(self, vm: str, policy: Policy) -> PolicyRunner:
        """Run ``policy`` on ``vm``'s migrations (replacing its previous one) until the fleet closes."""
        session, state = self.session(vm), self.states[vm]
        runner = PolicyRunner(policy, session, state, self._publish, change=lambda step: self.change(vm, step))
        self.policies[vm] = runner
        self._publish(PolicyStep(vm, policy.name, "watches", policy.description or policy.name, False))
        return runner

    def _run_policy(self, update: Update) -> None:
        if isinstance(update, SampleTaken) and (runner := self.policies.get(update.vm)) is not None:
            task = asyncio.create_task(runner.on_sample(), name=f"{update.vm}-policy")
            self._policy_tasks.add(task)
            task.add_done_callback(self._policy_tasks.discard)

    def refresh(self, vm: str) -> None:
        """Re-read the VM's run state, parameters, capabilities and jobs now."""
        self.pollers[vm].refresh_all()

    def watch_settings(self, vm: str) -> Callable[[], None]:
        """Keep ``states[vm].parameters`` and ``.capabilities`` fresh (changes
        by other tools included) until the returned function is called."""
        return self.pollers[vm].watch_settings()

    async def change(self, vm: str, make: Callable[[VMSession], Awaitable[Result]], *,
                     also: Iterable[str] = (), reread_timeout: float = REREAD_TIMEOUT) -> Result:
        """Make one change to ``vm`` (``make`` gets its session, so every command
        goes through the gate), then read ``vm`` and the VMs in ``also`` again.

        Every write goes through here: when it returns, the fleet's states
        (and so every view) already show what QEMU holds now. The re-read
        happens whatever the change's outcome, since a refused or half-done
        change must show QEMU's truth too; a VM that does not answer within
        ``reread_timeout`` is left to its poller, which re-reads it when it is
        back.
        """
        names = [vm, *(name for name in also if name != vm)]
        sessions = [self.session(name) for name in names]  # an unknown name: refused before any change
        try:
            return await make(sessions[0])
        finally:
            waits = [asyncio.create_task(self.pollers[name].reread()) for name in names
                     if self.sessions[name].state is LinkState.CONNECTED]
            if waits:
                _, late = await asyncio.wait(waits, timeout=reread_timeout)
                for wait in late:
                    wait.cancel()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until every VM is connected or ``timeout`` passed (no error)."""
        waits = [asyncio.create_task(s.wait_connected()) for s in self.sessions.values()]
        _done, pending = await asyncio.wait(waits, timeout=timeout)
        for task in pending:
            task.cancel()

    def publish(self, update: Update) -> None:
        """Tell every subscriber: for producers beside the pollers (the alert engine)."""
        self._publish(update)

    def _publish(self, update: Update) -> None:
        if update.vm not in self.states and not isinstance(update, VMRemoved):
            return  # the last words of a VM being removed (its poll's cancellation): nobody reads them
        for subscriber in list(self._subscribers):
            try:
                subscriber(update)
            except Exception:  # a failing view must not stop the engine
                log.exception("fleet subscriber failed on %r", update)

    def _on_link(self, vm: str, state: LinkState, error: str | None) -> None:
        vm_state = self.states[vm]
        vm_state.link, vm_state.link_error = state, error
        if state is LinkState.CONNECTED:
            vm_state.version = qemu_version(self.sessions[vm].version)
            self.pollers[vm].refresh_all()
        else:
            vm_state.busy_for = 0.0
        self._publish(VMChanged(vm, Aspect.LINK))

    def _on_event(self, vm: str, message: dict[str, Any]) -> None:
        event = QMPEvent.from_qmp(vm, message)
        state, poller = self.states[vm], self.pollers[vm]
        state.events.append(event)
        if event.name == "JOB_STATUS_CHANGE":
            state.jobs.on_event(event.data, event.wall)
            poller.refresh_jobs = True
            self._publish(VMChanged(vm, Aspect.JOBS))
        if event.name in STATUS_EVENTS or event.name == "JOB_COMPLETED" or (
                event.name == "MIGRATION" and event.data.get("status") in FINAL_STATES):
            poller.refresh_status = True
        if event.name in WAKE_EVENTS:
            poller.wake.set()
        self._publish(EventReceived(vm, event))
