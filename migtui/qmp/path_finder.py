"""Keeps each VM's ``path`` (what its outgoing migration's path carries) for the prediction.

Probed once a migration from the VM is first seen (:mod:`migtui.qmp.path_probe`),
and raised to the best throughput migrations between the same two places
reached while this process watched: a path that carried that carries at least that.
A migration's throughput is the median of its last readings, not one reading
(a second's figure jumps).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections import deque
from collections.abc import Callable

from migtui.model.vm_state import VMState
from migtui.qmp.path_probe import destination_address, probe, runner_for
from migtui.qmp.session import VMSession
from migtui.qmp.updates import Aspect, SampleTaken, Update, VMChanged

log = logging.getLogger(__name__)

READINGS = 10
"""Throughput readings whose median is what a migration reached."""


class PathFinder:
    def __init__(self, sessions: dict[str, VMSession], states: dict[str, VMState],
                 where: Callable[[str], str], publish: Callable[[Update], None]) -> None:
        self.sessions, self.states, self.where, self.publish = sessions, states, where, publish
        self.tasks: set[asyncio.Task[None]] = set()
        self.best: dict[tuple[str, str], float] = {}
        """The highest throughput seen, by (source's place, destination address)."""
        self._recent: dict[str, deque[float]] = {}
        """Each VM's last throughput readings."""
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
        recent = self._recent.setdefault(vm, deque(maxlen=READINGS))
        if sample.throughput > 0:
            recent.append(sample.throughput)
        if len(recent) == READINGS and (reached := statistics.median(recent)) > self.best.get(key, 0.0):
            self.best[key] = reached
        if self._probed.get(vm) != state.tracker.migration_count:
            self._probed[vm] = state.tracker.migration_count
            recent.clear()  # another migration: its own readings
            task = asyncio.create_task(self._probe(vm, key), name=f"{vm}-path")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif state.path is not None:
            state.path = state.path.with_seen(self.best.get(key))

    def _key(self, vm: str) -> tuple[str, str]:
        uri = self.sessions[vm].outgoing_uri
        return self.where(vm), (destination_address(uri) or uri.split(":", 1)[0]) if uri else "?"

    async def _probe(self, vm: str, key: tuple[str, str]) -> None:
        session = self.sessions[vm]
        try:
            found = await probe(session.outgoing_uri, runner_for(session), session.host_entry)
        except Exception:  # the path is a hint: a failed probe must not stop the engine
            log.exception("probing the migration path of %s", vm)
            return
        state = self.states[vm]
        state.path = None if found is None else found.with_seen(self.best.get(key))
        self.publish(VMChanged(vm, Aspect.SETTINGS))
