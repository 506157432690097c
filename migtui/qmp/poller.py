"""The poll loop of one VM: never overlapping, fast while something runs.

``await poll(); await wake-or-interval`` — a poll never starts before the
previous one ended. Events (MIGRATION, JOB_STATUS_CHANGE, STOP...) wake it at
once. On a shared link (:mod:`migtui.qmp.session`) a poll is one exchange,
and the migration events it could not hear are derived from its answers.

A poll that QEMU leaves unanswered (QMP is silent during a snapshot save) is
not given up: the VM is shown busy until QEMU answers, and nothing more is
queued behind it.

Whatever goes wrong inside one poll (an answer migtui cannot read, a bug)
becomes the VM's ``poll_error`` and the loop goes on: one bad answer must not
silence a VM for good while its link still says connected. Only
cancellation ends the loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import ValidationError

from migtui.model.derived_events import derived_events
from migtui.model.vm_state import BUSY_AFTER, VMState
from migtui.qmp.errors import QEMURefused, QMPFailure, UnexpectedAnswer
from migtui.qmp.replies import capability_states
from migtui.qmp.session import VMSession
from migtui.qmp.updates import Aspect, SampleTaken, Update, VMChanged

log = logging.getLogger(__name__)
Reply = TypeVar("Reply")

FAST_INTERVAL = 0.5
SLOW_INTERVAL = 5.0
WATCH_INTERVAL = 1.0
"""How often settings are read while someone watches them (an open editor):
QEMU sends no event when another tool sets a parameter."""


class VMPoller:
    def __init__(self, session: VMSession, state: VMState, publish: Callable[[Update], None],
                 fast: float = FAST_INTERVAL, slow: float = SLOW_INTERVAL) -> None:
        self.session = session
        self.state = state
        self.publish = publish
        self.fast = fast
        self.slow = slow
        self.wake = asyncio.Event()
        session.wake_poll = self.wake.set
        self.refresh_status = True
        self.refresh_settings = True
        self.refresh_jobs = True
        self._busy_watch: asyncio.Task[None] | None = None
        self._asking = ""
        """The query of the poll under way (to say which answer was not understood)."""
        self._rereads: list[asyncio.Future[None]] = []
        """Who waits for the next poll to start (it will read everything again)."""
        self._reading: list[asyncio.Future[None]] = []
        """Who waits for the poll under way to end."""
        self._settings_watchers = 0

    def refresh_all(self) -> None:
        self.refresh_status = self.refresh_settings = self.refresh_jobs = True
        self.wake.set()

    def watch_settings(self) -> Callable[[], None]:
        """Read the parameters and capabilities at every poll, at least every
        :data:`WATCH_INTERVAL`, until the returned function is called."""
        self._settings_watchers += 1
        self.refresh_settings = True
        self.wake.set()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._settings_watchers -= 1

        return release

    async def reread(self) -> None:
        """Read the run state, settings and jobs again; return when that poll ended.

        The wait is for a poll that *starts* after this call: one under way
        may have passed its settings step already. A poll that fails still
        ends the wait (its error is the VM's ``poll_error``).
        """
        done = asyncio.get_running_loop().create_future()
        self._rereads.append(done)
        self.refresh_all()
        await done

    async def run(self) -> None:
        while True:
            await self.session.wait_connected()
            self._reading, self._rereads = self._rereads, []
            # This poll answers every wake so far (the link's refresh on connecting among them):
            # only one that comes while it runs asks for another.
            self.wake.clear()
            try:
                async with self.session.exchange():  # a shared link: one connection for the whole poll
                    await self.poll()
            except QMPFailure:
                pass  # the link handler reports it; wait for the reconnect
            except QEMURefused as refused:
                if refused.command == "query-jobs":
                    self.refresh_jobs = False  # no query-jobs on this QEMU: stop asking
                else:
                    self._failed(f"QEMU refused {refused.command}: {refused.desc}", refused)
            except Exception as error:  # anything else: said, and the next poll comes as usual
                self._failed(describe_poll_error(self._asking, error), error)
                self.refresh_status = self.refresh_settings = True  # the failed step may have been one of these
            else:
                self._failed(None, None)
            finally:
                for done in self._reading:
                    if not done.done():
                        done.set_result(None)
            sample = self.state.latest
            working = (sample is not None and sample.active) or bool(self.state.jobs.running)
            # A timer sets the same event an arriving QMP event sets: cheaper
            # than wait_for, which makes a task every tick.
            interval = self.fast if working else self.slow
            if self._settings_watchers:
                interval = min(interval, WATCH_INTERVAL)
            loop = asyncio.get_running_loop()
            timer = loop.call_at(next_tick(loop.time(), interval), self.wake.set)
            await self.wake.wait()
            timer.cancel()

    async def poll(self) -> None:
        state = self.state
        if self.refresh_status:
            self.refresh_status = False
            state.run_state = (await self._ask("query-status", self.session.query)).get("status")
            self.publish(VMChanged(state.name, Aspect.RUN_STATE))
        if self.refresh_settings or self._settings_watchers:
            asked, self.refresh_settings = self.refresh_settings, False
            parameters = await self._ask("query-migrate-parameters", self.session.query)
            caps = await self._ask("query-migrate-capabilities", self.session.query_list)
            capabilities = capability_states(caps)
            # A watcher's read tells the views only of a change; an asked-for read always (it may be awaited).
            if asked or (parameters, capabilities) != (state.parameters, state.capabilities):
                state.set_settings(parameters, capabilities, time.monotonic())
                self.publish(VMChanged(state.name, Aspect.SETTINGS))
        before, previous = state.tracker.migration_count, state.latest
        sample = state.tracker.add(await self._ask("query-migrate", self.session.query),
                                   snapshot=state.snapshot_running)
        if state.tracker.migration_count != before:
            self.refresh_settings = True  # a new migration: its limits matter now
            state.incoming = state.run_state == "inmigrate"
        if self.session.derives_events:  # what a held link would have heard since the last poll
            for event in derived_events(previous, sample):
                self.session.hear(event)
        self.publish(SampleTaken(state.name, sample))
        if self.refresh_jobs or state.jobs.running:
            self.refresh_jobs = False
            state.jobs.update(await self._ask("query-jobs", self.session.query_list))
            self.publish(VMChanged(state.name, Aspect.JOBS))

    def _failed(self, reason: str | None, error: BaseException | None) -> None:
        """Set (or, with None, clear) the VM's poll error; tell the views when it changes."""
        if reason == self.state.poll_error:
            return
        if reason is not None:
            # The line for whoever reads the log; the traceback only for who asks for it.
            log.warning("%s: %s", self.state.name, reason)
            log.debug("%s: the poll failed here", self.state.name, exc_info=error)
        self.state.poll_error = reason
        self.publish(VMChanged(self.state.name, Aspect.POLL_ERROR))

    async def _ask(self, command: str, how: Callable[..., Awaitable[Reply]]) -> Reply:
        """Run a query (``how``: the session's query or query_list); while QEMU
        keeps silent, show the VM busy and keep waiting.

        A timer, not a task per query, arms the busy watch: polling is the hot
        path and most answers come back in about a millisecond.
        """
        self._asking = command
        timer = asyncio.get_running_loop().call_later(BUSY_AFTER, self._watch_busy)
        try:
            return await how(command, timeout=None)
        finally:
            timer.cancel()
            if self._busy_watch is not None:
                self._busy_watch.cancel()
                self._busy_watch = None
                self._set_busy(0.0)

    def _watch_busy(self) -> None:
        async def tick() -> None:
            while True:
                self._set_busy(self.session.unanswered_for)
                await asyncio.sleep(1.0)

        self._busy_watch = asyncio.create_task(tick(), name=f"{self.state.name}-busy")

    def _set_busy(self, seconds: float) -> None:
        self.state.busy_for = seconds
        self.publish(VMChanged(self.state.name, Aspect.BUSY))


def next_tick(now: float, interval: float) -> float:
    """When the next poll at ``interval`` is due: a multiple of ``interval`` on the
    loop's clock, at least half an interval away.

    Every VM polled at one interval thus polls at the same instants. One
    wakeup of the event loop then sends many queries, and many answers come
    in one: a fleet of VMs whose polls each kept their own phase paid an
    event-loop turn and a wakeup of the other side per query, twice the
    turns of VMs polled together (bench/bench_dashboard.py). Over SSH the
    queries of one host's VMs also leave in one TCP segment.
    """
    return (math.floor(now / interval + 0.5) + 1) * interval


def describe_poll_error(command: str, error: Exception) -> str:
    """One line: which answer was not understood, and why (pydantic's first complaint)."""
    if isinstance(error, UnexpectedAnswer):
        return error.reason
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        return f"{command} answer not understood: {where}: {first['msg']}"
    detail = " ".join(str(error).split()) or type(error).__name__
    return f"polling failed after {command}: {type(error).__name__}: {detail}"
