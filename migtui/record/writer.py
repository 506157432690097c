"""The recorder: a fleet subscriber that writes everything it hears to SQLite.

Rows wait in memory and are written in one transaction a second, so a
SIGKILL loses at most the last second, and WAL mode keeps what was committed
whole. A VM's samples go into blocks (:mod:`migtui.record.blocks`); the one
being filled is rewritten in ``open_blocks`` each second. A sample equal to
the VM's previous one (an idle VM) is not a new record: the previous one's
``until`` and ``repeats`` grow instead, which keeps a day of an idle fleet to
a few bytes. One recorder writes a file at a time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migtui import __version__
from migtui.model.sample import Sample
from migtui.qmp.fleet_view import FleetView
from migtui.qmp.tasks import cancel_all
from migtui.qmp.updates import (
    AlertRaised,
    EventReceived,
    PolicyStep,
    SampleTaken,
    Update,
    VMAdded,
    VMChanged,
    VMRemoved,
)
from migtui.record.audit_tee import tee_audit
from migtui.record.blocks import BLOCK_SPAN_MS, OpenBlock, Record
from migtui.record.codec import dumps, plain, split
from migtui.record.retention import Retention
from migtui.record.schema import RecordingError, connect

FLUSH_EVERY = 1.0
PREDICT_EVERY = 1.0
"""Seconds between predictions recorded for a VM while its samples change (at once when the status
changes): a VM polled at 10 Hz needs no ten predictions a second in its history."""
PREDICTION_REFRESH = 10.0
"""Seconds after which a prediction whose verdict stayed is recorded again with its new figures."""
SHAPE_TOUCH_EVERY = 60.0
"""Seconds between updates of a shape's ``last_ms`` (retention keeps shapes still in use)."""

_BLOCK_COLUMNS = "first_id, run, vm, last_id, first_ms, last_ms, data"
_CLOSE_OPEN_BLOCKS = (f"INSERT INTO sample_blocks ({_BLOCK_COLUMNS}) SELECT {_BLOCK_COLUMNS} FROM open_blocks",
                      "DELETE FROM open_blocks")


@dataclass
class _Batch:
    shapes: list[tuple[int, str, int]] = field(default_factory=list)
    blocks: list[tuple[Any, ...]] = field(default_factory=list)
    """Whole blocks, for ``sample_blocks``."""
    filling: set[str] = field(default_factory=set)
    """VMs whose open block changed."""
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    touched: dict[int, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.shapes or self.blocks or self.filling or self.entries or self.touched)


class Recorder:
    def __init__(self, path: Path, fleet: FleetView, *, retention: float | None = None,
                 command: str | None = None, flush_every: float = FLUSH_EVERY) -> None:
        """``fleet``: a :class:`~migtui.qmp.fleet.Fleet` (its ``states``, ``subscribe`` and ``gate``);
        ``flush_every``: seconds between commits (``migtui serve`` commits more often: its viewers
        show what is committed)."""
        self.path = path
        self.flush_every = flush_every
        self.fleet = fleet
        self.conn = connect(path, write=True)
        self.mono_origin = time.monotonic()
        self.error: str | None = None
        self.failed = asyncio.Event()
        self._batch = _Batch()
        self._blocks: dict[str, OpenBlock] = {}
        self._facts: dict[tuple[str, str], Any] = {}
        self._predicted_at: dict[str, float] = {}
        self._shapes: dict[str, int] = {}
        self._shape_touched: dict[int, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Any = None
        self._untee: Any = None
        self._retention = Retention(self.conn, retention, self._forget_shapes) if retention else None
        self._vm_ids: dict[str, int] = {}
        try:
            self._begin_run(command)
        except sqlite3.Error as error:  # busy with another writer, read-only, full: one line, file closed
            self.conn.close()
            raise RecordingError(f"{path}: cannot write the recording: {error}") from None

    def _begin_run(self, command: str | None) -> None:
        """Enter this run, close what a killed recorder left open, know the fleet's VMs."""
        fleet = self.fleet
        cur = self.conn.execute(
            "INSERT INTO runs (started, mono_origin, host, pid, version, command) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), self.mono_origin, socket.gethostname(), os.getpid(), __version__,
             command or " ".join(["migtui", *sys.argv[1:]])))
        self.run = int(cur.lastrowid or 0)
        with self.conn:  # a killed recorder's blocks being filled are whole now: nothing will add to them
            self.conn.execute("BEGIN IMMEDIATE")
            for statement in _CLOSE_OPEN_BLOCKS:
                self.conn.execute(statement)
        for name in fleet.states:
            self._vm_id(name, fleet)
        self._next_sample = self._max_sample_id() + 1
        self._next_shape = self._max_id("shapes") + 1

    # -- life ----------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe = self.fleet.subscribe(self)
        gate = self.fleet.gate
        if gate is not None:
            self._untee = tee_audit(gate, self.audit)
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="recorder-flush"))
        if self._retention:
            self._tasks.append(asyncio.create_task(self._retention.run(), name="recorder-retention"))

    async def close(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self._untee:
            self._untee()
        await cancel_all(self._tasks)
        if not self.error:
            self.flush()
        self.conn.close()

    async def __aenter__(self) -> Recorder:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- what is recorded ------------------------------------------------------

    def __call__(self, update: Update) -> None:
        if isinstance(update, SampleTaken):
            self._sample(update.sample)
        elif isinstance(update, EventReceived):
            event = update.event
            self._entry(update.vm, "event", {"name": event.name, "data": event.data, "qemu_wall": event.wall},
                        at=event.at)
        elif isinstance(update, VMChanged):
            self._changed(update.vm, update.aspect)
        elif isinstance(update, PolicyStep):
            self.note(update.vm, "policy", {"policy": update.policy, "did": update.did, "step": update.text})
        elif isinstance(update, VMAdded):  # found by a pattern: a VM of the recording from now on
            self.note(update.vm, "found", {"address": update.address})
        elif isinstance(update, VMRemoved):
            self.note(update.vm, "gone", {"reason": update.reason})
        elif isinstance(update, AlertRaised):
            self.note(update.vm, "alert", update.alert)

    def note(self, vm: str, kind: str, data: Any) -> None:
        """Anything else worth keeping: a policy step, a chart mark (``kind`` names it)."""
        self._entry(vm, kind, plain(data))

    def audit(self, entry: dict[str, Any]) -> None:
        vm = str(entry.get("vm"))
        # Where the VM was when the command went: a libvirt domain changes hosts within a run, and a
        # migration's route starts there (migtui.record.route_history).
        where = self.fleet.where(vm) if vm in self.fleet.states else None
        self._entry(vm, "audit", entry | ({"host": where} if where else {}))

    def _sample(self, sample: Sample) -> None:
        vm, answer = sample.vm, sample.info.to_json()
        shape_json, hot = split(answer)
        shape = self._shape(shape_json)
        wall_ms = round(sample.wall * 1000)
        block = self._blocks.get(vm)
        last = block.last if block is not None else None
        self._batch.touched[shape] = wall_ms
        self._batch.filling.add(vm)
        if block is not None and last is not None and last.shape == shape and last.hot == hot:
            last.repeats += 1
            last.until_ms = wall_ms
            if block.before_last is not None and wall_ms - block.first_ms > BLOCK_SPAN_MS:
                # A long repeat goes on in a block of its own: the block before it can age out whole.
                self._batch.blocks.append(block.prefix_row())
                self._blocks[vm] = fresh = OpenBlock(self.run, block.vm)
                fresh.add(last)
            return
        if block is None or block.full(wall_ms):
            if block is not None:
                self._batch.blocks.append(block.row())
            block = self._blocks[vm] = OpenBlock(self.run, self._vm_ids.get(vm) or self._vm_id(vm, self.fleet))
        block.add(Record(self._next_sample, wall_ms, self._mono_ms(sample.at), shape, hot))
        self._next_sample += 1
        self._predict(vm, sample.wall, last is None or last.shape != shape)

    def _predict(self, vm: str, wall: float, status_changed: bool) -> None:
        """Record the VM's prediction when its verdict changes, and its new figures every PREDICTION_REFRESH s."""
        state = self.fleet.states.get(vm)
        last_at = self._predicted_at.get(vm, -PREDICT_EVERY)
        if state is None or (not status_changed and wall - last_at < PREDICT_EVERY):
            return
        self._predicted_at[vm] = wall
        prediction = plain(state.prediction())
        verdict = prediction.get("verdict")
        before = self._facts.get((vm, "prediction"))
        stale = before is not None and before[1] != prediction and wall - before[2] >= PREDICTION_REFRESH
        if before is None or before[0] != verdict or stale:
            self._facts[(vm, "prediction")] = (verdict, prediction, wall)
            self._entry(vm, "prediction", prediction)

    def _changed(self, vm: str, aspect: str) -> None:
        state = self.fleet.states.get(vm)
        if state is None:
            return
        if aspect == "link":
            self._fact(vm, "link", {"link": state.link, "error": state.link_error, "version": state.version})
        elif aspect == "run-state":
            self._fact(vm, "run-state", {"run_state": state.run_state, "incoming": state.incoming})
        elif aspect == "settings":
            self._fact(vm, "settings", {"parameters": plain(state.parameters),
                                        "capabilities": dict(state.capabilities)})
        elif aspect == "jobs":
            jobs = [{"id": j.id, "type": j.type, "status": j.status, "error": j.error}
                    for j in state.jobs.jobs.values()]
            self._fact(vm, "jobs", {"jobs": jobs})
        elif aspect == "busy":
            self._fact(vm, "busy", {"busy": state.busy, "for": round(state.busy_for, 1)}, state.busy)

    def _fact(self, vm: str, kind: str, data: Any, identity: Any = None) -> None:
        """Record ``data`` when it differs from what was last recorded of this kind."""
        key = (vm, kind)
        identity = data if identity is None else identity
        if self._facts.get(key, object()) != identity:
            self._facts[key] = identity
            self._entry(vm, kind, data)

    def _entry(self, vm: str, kind: str, data: Any, at: float | None = None) -> None:
        vm_id = self._vm_ids.get(vm) or self._vm_id(vm, self.fleet)
        self._batch.entries.append((self.run, vm_id, round(time.time() * 1000),
                                    self._mono_ms(time.monotonic() if at is None else at), kind, dumps(data)))

    # -- writing -------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            try:
                self.flush()
            except RecordingError as error:
                self.error = str(error)
                self.failed.set()
                return

    def flush(self) -> None:
        batch, self._batch = self._batch, _Batch()
        if not batch:
            return
        now = time.monotonic()
        touched = [(ms, shape) for shape, ms in batch.touched.items()
                   if now - self._shape_touched.get(shape, -SHAPE_TOUCH_EVERY) >= SHAPE_TOUCH_EVERY]
        try:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany("INSERT INTO shapes (id, json, last_ms) VALUES (?, ?, ?)", batch.shapes)
                self.conn.executemany(f"INSERT INTO sample_blocks ({_BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                      batch.blocks)
                self.conn.executemany(f"INSERT OR REPLACE INTO open_blocks ({_BLOCK_COLUMNS}) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                      [self._blocks[vm].row() for vm in batch.filling])
                self.conn.executemany("INSERT INTO entries (run, vm, wall_ms, mono_ms, kind, data) "
                                      "VALUES (?, ?, ?, ?, ?, ?)", batch.entries)
                self.conn.executemany("UPDATE shapes SET last_ms = max(last_ms, ?) WHERE id = ?", touched)
        except sqlite3.Error as error:
            raise RecordingError(f"{self.path}: cannot write the recording: {error}") from None
        for _, shape in touched:
            self._shape_touched[shape] = now

    def _shape(self, shape_json: str) -> int:
        known = self._shapes.get(shape_json)
        if known is not None:
            return known
        row = self.conn.execute("SELECT id FROM shapes WHERE json = ?", (shape_json,)).fetchone()
        if row is None:
            shape = self._next_shape
            self._next_shape += 1
            self._batch.shapes.append((shape, shape_json, 0))
        else:
            shape = int(row[0])
        if len(self._shapes) > 1024:  # xbzrle or compression stats make a shape per sample: stay bounded
            self._shapes.clear()
        self._shapes[shape_json] = shape
        return shape

    def _forget_shapes(self) -> None:
        """Retention deleted unused shapes: look them up again."""
        self._shapes.clear()
        self._shape_touched.clear()

    def _vm_id(self, name: str, fleet: FleetView) -> int:
        state = fleet.states.get(name)
        host = fleet.where(name) if name in fleet.states else None
        group, notes = (state.group, state.notes) if state is not None else (None, None)
        self.conn.execute("INSERT INTO vms (name, grp, notes, host) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO "
                          "UPDATE SET grp = excluded.grp, notes = excluded.notes, host = excluded.host",
                          (name, group, notes, host))
        vm_id = int(self.conn.execute("SELECT id FROM vms WHERE name = ?", (name,)).fetchone()[0])
        self._vm_ids[name] = vm_id
        return vm_id

    def _max_id(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])

    def _max_sample_id(self) -> int:
        # The newest sample is the last of some VM's newest block (found through the index by VM).
        return int(self.conn.execute("SELECT coalesce(max((SELECT last_id FROM sample_blocks WHERE vm = vms.id "
                                     "ORDER BY first_id DESC LIMIT 1)), 0) FROM vms").fetchone()[0])

    def _mono_ms(self, at: float) -> int:
        return round((at - self.mono_origin) * 1000)
