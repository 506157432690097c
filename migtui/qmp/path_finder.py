"""Keeps each VM's ``path`` (what its outgoing migration's path carries) for the prediction.

Probed once a migration from the VM is first seen (:mod:`migtui.qmp.path_probe`),
told what recorded migrations between the same two places reached before
(:mod:`migtui.qmp.path_history`), and raised to the best throughput migrations
between them reached while this process watched: a path that carried that
carries at least that. A migration's throughput is the median of its last
readings, not one reading (:mod:`migtui.model.reached`: a second's figure jumps).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from migtui.model.path import with_recorded
from migtui.model.reached import Reached
from migtui.model.vm_state import VMState
from migtui.qmp.path_history import PathHistory
from migtui.qmp.path_probe import destination_of, probe, runner_for
from migtui.qmp.session import VMSession
from migtui.qmp.updates import Aspect, SampleTaken, Update, VMChanged

log = logging.getLogger(__name__)


class PathFinder:
    def __init__(self, sessions: dict[str, VMSession], states: dict[str, VMState],
                 where: Callable[[str], str], publish: Callable[[Update], None]) -> None:
        self.sessions, self.states, self.where, self.publish = sessions, states, where, publish
        self.tasks: set[asyncio.Task[None]] = set()
        self.history = PathHistory()
        """The recordings past migrations are read from (the CLI adds them)."""
        self.best: dict[tuple[str, str], float] = {}
        """The highest throughput seen, by (source's place, destination address)."""
        self._reached: dict[str, Reached] = {}
        """What each VM's current migration reached so far."""
        self._probed: dict[str, int] = {}
        """The migration (the tracker's count) each VM's path was probed for."""

    def on_update(self, update: Update) -> None:
        if not isinstance(update, SampleTaken):
            return
        vm, sample = update.vm, update.sample
        state = self.states[vm]
        if sample.snapshot or not sample.active or state.incoming:
            return
        key = self._key(vm)
        reached = self._reached.setdefault(vm, Reached())
        new = self._probed.get(vm) != state.tracker.migration_count
        if new:
            self._probed[vm] = state.tracker.migration_count
            reached.clear()  # another migration: its own readings
            task = asyncio.create_task(self._probe(vm, key), name=f"{vm}-path")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if (best := reached.add(sample.throughput)) is not None and best > self.best.get(key, 0.0):
            self.best[key] = best
        if not new and state.path is not None:  # a new migration's path comes from its probe (it may go elsewhere)
            state.path = state.path.with_seen(self.best.get(key))

    def _key(self, vm: str) -> tuple[str, str]:
        return self.where(vm), destination_of(self.sessions[vm].outgoing_uri)

    async def _probe(self, vm: str, key: tuple[str, str]) -> None:
        session = self.sessions[vm]
        try:
            found = await probe(session.outgoing_uri, runner_for(session), session.host_entry)
            found = with_recorded(found, await self.history.reach(*key))
        except Exception:  # the path is a hint: a failed probe must not stop the engine
            log.exception("probing the migration path of %s", vm)
            return
        state = self.states.get(vm)
        if state is None:
            return  # the VM left the fleet while its path was looked at
        state.path = None if found is None else found.with_seen(self.best.get(key))
        self.publish(VMChanged(vm, Aspect.SETTINGS))
