"""A recording played back as a fleet: the same states, the same updates.

:class:`ReplayFleet` offers what the dashboard reads of a live fleet
(``states``, ``subscribe``, ``gate``) and publishes the same
:class:`~migtui.qmp.updates.Update` values, so the same screens show a
recording. It has no sessions and its gate is read-only: nothing can reach a
VM. Time is the recording's wall clock: ``position`` moves at ``speed``
while playing, ``seek`` rebuilds every VM's state as it was at a moment, and
``follow`` keeps reading what a recorder is still writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from migtui.errors import UsageError
from migtui.model.events import QMPEvent
from migtui.model.link import LinkState
from migtui.model.policy import Policy
from migtui.model.vm_state import LIMIT_CHANGES, VMState
from migtui.qmp.gate import CommandGate
from migtui.qmp.hosts import HostPool
from migtui.qmp.policy import PolicyRunner
from migtui.qmp.session import VMSession
from migtui.qmp.updates import Aspect, EventReceived, SampleTaken, Update, VMChanged
from migtui.record.reader import RecordedEntry, RecordedSample, Recording

log = logging.getLogger(__name__)

CHUNK = 500
FOLLOW_POLL = 0.2
"""Seconds between looks for new rows with --follow (the recorder commits once a second)."""
HISTORY = 3600
EVENTS = 2000
STATE_KINDS = ("link", "run-state", "settings", "jobs", "busy")
SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)

Subscriber = Callable[[Update], None]
Result = TypeVar("Result")
NO_VM = "a replay shows a recording: there is no VM to talk to"


@dataclass(frozen=True)
class EntryReplayed(Update):
    """A recorded entry that is no part of a VM's state (audit, policy step, prediction, mark)."""

    entry: RecordedEntry


class ReplayFleet:
    def __init__(self, recording: Recording, *, start: float | None = None, speed: float = 1.0,
                 follow: bool = False, paused: bool = False) -> None:
        self.recording = recording
        self.gate = CommandGate(read_only=True)
        self.sessions: dict[str, VMSession] = {}
        self.states: dict[str, VMState] = {}
        self.hosts = HostPool()
        """No SSH host is reached from a recording (the VMs' host names are in their states)."""
        self.policies: dict[str, PolicyRunner] = {}
        """None run on a recording (the steps they took are recorded entries)."""
        self.follow = follow
        self.speed = speed
        self.paused = paused
        self.ended = False
        self.on_seek: list[Callable[[], None]] = []
        self._subscribers: list[Subscriber] = []
        self._samples: deque[RecordedSample] = deque()
        self._entries: deque[RecordedEntry] = deque()
        self._sample_cursor = self._entry_cursor = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._add_vms()
        span = recording.span()
        self.first, self.last = span or (time.time(), time.time())
        self._anchor = (time.monotonic(), self.first)
        self.seek(self.last if follow else (start if start is not None else self.first))

    # -- the fleet's reading interface -------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def start(self) -> None:
        self._task = asyncio.create_task(self._play(), name="replay")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def session(self, name: str) -> VMSession:
        raise UsageError(NO_VM)

    async def change(self, vm: str, make: Callable[[VMSession], Awaitable[Result]], *,
                     also: Iterable[str] = ()) -> Result:
        raise UsageError(NO_VM)

    def watch_settings(self, vm: str) -> Callable[[], None]:
        """The recorded settings are what they are: nothing to keep fresh."""
        return lambda: None

    def apply_policy(self, vm: str, policy: Policy) -> PolicyRunner:
        raise UsageError(NO_VM)

    def where(self, vm: str) -> str:
        """The host the recording names for the VM."""
        state = self.states.get(vm)
        return state.host if state is not None and state.host else ""

    def refresh(self, vm: str) -> None:
        """Nothing to read again: a recording is what it is."""

    # -- the clock -----------------------------------------------------------

    @property
    def position(self) -> float:
        """The recorded moment shown now (seconds since the epoch)."""
        since, at = self._anchor
        if self.paused or self.ended:
            return at
        return at + (time.monotonic() - since) * self.speed

    def _set_position(self, at: float) -> None:
        self._anchor = (time.monotonic(), at)

    def set_paused(self, paused: bool) -> None:
        self._set_position(self.position)
        self.paused = paused
        self._wake.set()

    def set_speed(self, speed: float) -> None:
        self._set_position(self.position)
        self.speed = speed
        self._wake.set()

    def faster(self, steps: int = 1) -> None:
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.speed))
        self.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, index + steps))])

    def step(self) -> RecordedSample | None:
        """Paused: show everything up to the next sample, and that sample."""
        self.set_paused(True)
        while True:
            record = self._next()
            if record is None:
                return None
            self._apply(record)
            self._set_position(max(self.position, record.wall))
            if isinstance(record, RecordedSample):
                return record

    def seek(self, at: float) -> None:
        """Show every VM as it was at ``at``: its last samples, events and state before then."""
        at = min(max(at, self.first), self.last) if not self.follow else at
        self.ended = False
        self.recording.refresh()
        self._add_vms()
        for name, state in self.states.items():
            self._rebuild(name, state, at)
        until_ms = round(at * 1000)
        conn = self.recording.conn
        self._sample_cursor = self.recording.last_sample_before(at)
        self._entry_cursor = conn.execute("SELECT coalesce(max(id), 0) FROM entries WHERE wall_ms <= ?",
                                          (until_ms,)).fetchone()[0]
        self._samples.clear()
        self._entries.clear()
        self._set_position(at)
        for name, state in self.states.items():
            for aspect in STATE_KINDS:
                self._publish(VMChanged(name, Aspect(aspect)))
            if state.latest is not None:
                self._publish(SampleTaken(name, state.latest))
        for hook in self.on_seek:
            hook()
        self._wake.set()

    # -- playing -------------------------------------------------------------

    async def _play(self) -> None:
        while True:
            self._wake.clear()
            if self.paused or self.ended:
                await self._wake.wait()
                continue
            record = self._next()
            if record is None:
                if self.follow:
                    self._set_position(max(self.position, time.time()))
                    await self._sleep(FOLLOW_POLL)
                else:
                    self._set_position(self.last)
                    self.ended = True
                continue
            delay = 0.0 if self.follow else (record.wall - self.position) / self.speed
            if delay > 0:
                await self._sleep(min(delay, 0.5))
                continue
            self._apply(record)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _next(self) -> RecordedSample | RecordedEntry | None:
        if not self._samples:
            self._samples.extend(self._read_samples())
        if not self._entries:
            self._entries.extend(self._read_entries())
        if not self._samples and not self._entries:
            return None
        if self._entries and (not self._samples or self._entries[0].wall <= self._samples[0].wall):
            entry = self._entries.popleft()
            self._entry_cursor = entry.id
            return entry
        sample = self._samples.popleft()
        self._sample_cursor = sample.id
        return sample

    def _read_samples(self) -> list[RecordedSample]:
        rows = self.recording.sample_chunk(self._sample_cursor, CHUNK)
        if rows and any(row.vm not in self.states for row in rows):
            self.recording.refresh()
            self._add_vms()
        return rows

    def _read_entries(self) -> list[RecordedEntry]:
        return self.recording.entries(after_id=self._entry_cursor, limit=CHUNK)

    def _apply(self, record: RecordedSample | RecordedEntry) -> None:
        state = self.states.get(record.vm)
        if state is None:
            return
        if isinstance(record, RecordedSample):
            self._publish(SampleTaken(record.vm, self._add_sample(state, record)))
        elif record.kind in STATE_KINDS:
            self._restore(state, record)
            self._publish(VMChanged(record.vm, Aspect(record.kind)))
        elif record.kind == "event":
            event = self._event(record)
            state.events.append(event)
            if event.name == "JOB_STATUS_CHANGE":
                state.jobs.on_event(event.data, event.wall)
            self._publish(EventReceived(record.vm, event))
        else:
            self._publish(EntryReplayed(record.vm, record))

    # -- state from rows ---------------------------------------------------------

    def _add_vms(self) -> None:
        for vm in self.recording.vms.values():
            if vm.name not in self.states:
                self.states[vm.name] = VMState(vm.name, group=vm.group, notes=vm.notes, host=vm.host or None)

    def _rebuild(self, name: str, state: VMState, at: float) -> None:
        fresh = VMState(name, group=state.group, notes=state.notes, host=state.host)
        state.tracker = fresh.tracker  # the widgets keep the state object, not its parts
        state.events.clear()
        state.jobs = fresh.jobs
        state.link, state.link_error, state.run_state, state.busy_for = LinkState.CONNECTING, None, None, 0.0
        state.parameters, state.capabilities, state.incoming = {}, {}, False
        for sample in self.recording.samples(name, until=at, newest=HISTORY):
            self._add_sample(state, sample)
        state.limits.clear()
        for kind in STATE_KINDS:
            # Settings: the changes the charts' history spans too (the downtime limit as it was).
            newest = LIMIT_CHANGES if kind == "settings" else 1
            for entry in self.recording.entries(name, [kind], until=at, newest=newest):
                self._restore(state, entry)
        for entry in self.recording.entries(name, ["event"], until=at, newest=EVENTS):
            state.events.append(self._event(entry))

    @staticmethod
    def _add_sample(state: VMState, record: RecordedSample) -> Any:
        latest = state.tracker.history.latest
        at = max(record.wall, latest.at) if latest is not None else record.wall
        return state.tracker.add(record.answer, at=at, wall=record.wall)

    @staticmethod
    def _event(entry: RecordedEntry) -> QMPEvent:
        data = entry.data
        return QMPEvent(entry.vm, str(data.get("name")), dict(data.get("data") or {}), at=entry.wall,
                        wall=float(data.get("qemu_wall") or entry.wall))

    @staticmethod
    def _restore(state: VMState, entry: RecordedEntry) -> None:
        data = entry.data
        if entry.kind == "link":
            state.link = LinkState(data.get("link", LinkState.CONNECTING))
            state.link_error, state.version = data.get("error"), data.get("version")
        elif entry.kind == "run-state":
            state.run_state, state.incoming = data.get("run_state"), bool(data.get("incoming"))
        elif entry.kind == "settings":
            state.set_settings(data.get("parameters", {}), data.get("capabilities", {}), entry.wall)
        elif entry.kind == "jobs":
            state.jobs.update(data.get("jobs", []))
        elif entry.kind == "busy":
            state.busy_for = float(data.get("for") or 0) if data.get("busy") else 0.0

    def _publish(self, update: Update) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(update)
            except Exception:  # a failing view must not stop the replay
                log.exception("replay subscriber failed on %r", update)
