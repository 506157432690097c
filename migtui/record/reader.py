"""Reading a recording: its VMs, runs, samples and entries, in time order.

Opened read-only: a reader never changes a file, and reads while a recorder
writes (WAL lets readers see each committed second).
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migtui.record.blocks import Record, decode
from migtui.record.codec import join
from migtui.record.schema import RecordingError, connect

_BLOCK_COLUMNS = "first_id, run, vm, last_id, first_ms, last_ms, data"
DECODED_BLOCKS = 128
"""Blocks kept decoded: reading in id order goes through every VM's current block for each chunk."""


@dataclass(frozen=True)
class RecordedVM:
    id: int
    name: str
    group: str | None
    notes: str | None
    host: str | None


@dataclass(frozen=True)
class RecordedSample:
    id: int
    vm: str
    run: int
    wall: float
    """time.time() when the recorder got the answer."""
    mono: float
    """Seconds since the recording run started (time.monotonic() based)."""
    until: float | None
    """For an idle VM's repeated answer: when it was last seen the same."""
    repeats: int
    answer: dict[str, Any]
    """The ``query-migrate`` answer as QEMU spelled it."""

    @property
    def status(self) -> str:
        return str(self.answer.get("status", "none"))


@dataclass(frozen=True)
class RecordedEntry:
    id: int
    vm: str
    run: int
    wall: float
    mono: float
    kind: str
    """event, link, run-state, settings, jobs, busy, prediction, audit, policy, mark."""
    data: Any


@dataclass(frozen=True)
class _Block:
    first_id: int
    run: int
    vm: int
    last_id: int
    first_ms: int
    last_ms: int
    data: bytes


class Recording:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.conn = connect(self.path, write=False)
        self.vms = self._vms()
        self._names = {vm.id: vm.name for vm in self.vms.values()}
        self._shapes: dict[int, str] = {}
        self._decoded: OrderedDict[tuple[int, int, int], list[Record]] = OrderedDict()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def refresh(self) -> None:
        """Pick up VMs a recorder added since (``--follow``)."""
        self.vms = self._vms()
        self._names = {vm.id: vm.name for vm in self.vms.values()}

    def vm_id(self, name: str) -> int:
        try:
            return self.vms[name].id
        except KeyError:
            known = ", ".join(self.vms) or "none"
            raise RecordingError(f"{self.path}: no VM named {name!r} in the recording (recorded: {known})") from None

    def runs(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT id, started, host, pid, version, command FROM runs ORDER BY id")
        return [dict(zip(("id", "started", "host", "pid", "version", "command"), row, strict=False)) for row in cur]

    def span(self) -> tuple[float, float] | None:
        """Wall-clock times of the first and the last thing recorded."""
        with self._snapshot():
            first, last = [], []
            for vm in self.vms.values():
                blocks = [*self._blocks("vm = ?", (vm.id,), "first_ms", 1),
                          *self._blocks("vm = ?", (vm.id,), "first_ms DESC", 1)]
                if blocks:
                    first.append(min(b.first_ms for b in blocks))
                    last.append(max(b.last_ms for b in blocks))
            row = self.conn.execute("SELECT min(wall_ms), max(wall_ms) FROM entries").fetchone()
            if row[0] is not None:
                first.append(row[0])
                last.append(row[1])
            return (min(first) / 1000, max(last) / 1000) if first else None

    def last_sample_before(self, at: float) -> int:
        """The id of the last sample taken at or before ``at`` (0: none)."""
        with self._snapshot():
            at_ms, ids = round(at * 1000), [0]
            for vm in self.vms.values():
                for block in self._blocks("vm = ? AND first_ms <= ?", (vm.id, at_ms), "first_ms DESC", 1):
                    ids.extend(r.id for r in self._records(block) if r.wall_ms <= at_ms)
            return max(ids)

    def samples(self, vm: str | None = None, *, since: float | None = None, until: float | None = None,
                after_id: int = 0, newest: int | None = None) -> list[RecordedSample]:
        """Samples in time order; ``newest=N``: only the last N (of ``vm``, before ``until``)."""
        with self._snapshot():
            where, args = self._block_where(self.vm_id(vm) if vm is not None else None, since, until, after_id)
            keep = self._keep(since, until, after_id)
            rows: list[RecordedSample] = []
            for block in self._blocks(where, args, "first_ms DESC" if newest else "first_ms"):
                if newest and len(rows) >= newest and block.last_ms < sorted(r.wall for r in rows)[-newest] * 1000:
                    break  # every later block is older than the newest N already read
                rows.extend(self._sample(block, r) for r in self._records(block) if keep(r))
            rows.sort(key=lambda r: (r.wall, r.id))
            return rows[-newest:] if newest else rows

    def entries(self, vm: str | None = None, kinds: Sequence[str] | None = None, *, since: float | None = None,
                until: float | None = None, after_id: int = 0, newest: int | None = None,
                limit: int | None = None) -> list[RecordedEntry]:
        where, args = self._where(vm, since, until, after_id)
        if kinds:
            where += f" AND s.kind IN ({', '.join('?' * len(kinds))})"
            args += list(kinds)
        # Newest first for newest=N; otherwise in the order they were written (ids), which is time order.
        order = "s.wall_ms DESC, s.id DESC" if newest else "s.id"
        count = newest or limit
        cur = self.conn.execute(f"SELECT s.id, s.vm, s.run, s.wall_ms, s.mono_ms, s.kind, s.data FROM entries s "
                                f"{where} ORDER BY {order}{f' LIMIT {int(count)}' if count else ''}", args)
        rows = [RecordedEntry(row[0], self._names.get(row[1], "?"), row[2], row[3] / 1000, row[4] / 1000, row[5],
                              json.loads(row[6])) for row in cur]
        return rows[::-1] if newest else rows

    def iter_samples(self, vm: str | None = None, *, since: float | None = None, until: float | None = None,
                     chunk: int = 2000) -> Iterator[RecordedSample]:
        """All samples in time order, read a chunk at a time (a day of a fleet does not fit in memory)."""
        after = 0
        while True:
            rows = self.sample_chunk(after, chunk, vm, since, until)
            yield from rows
            if len(rows) < chunk:
                return
            after = rows[-1].id

    def sample_chunk(self, after: int, chunk: int, vm: str | None = None, since: float | None = None,
                     until: float | None = None) -> list[RecordedSample]:
        """The first ``chunk`` samples after the id ``after``, in id order (the order they were taken in)."""
        with self._snapshot():
            where, args = self._block_where(self.vm_id(vm) if vm is not None else None, since, until, after)
            keep = self._keep(since, until, after)
            # A VM's block that began at or before ``after`` may hold later samples; then blocks by first id.
            vms = [self.vm_id(vm)] if vm is not None else [v.id for v in self.vms.values()]
            started = [b for v in vms for b in self._blocks("vm = ? AND first_id <= ?", (v, after), "first_id DESC", 1)]
            later = self._blocks(f"{where} AND first_id > ?", (*args, after), "first_id")
            pending: list[tuple[int, Record, _Block]] = []  # ids are unique: nothing past them is compared
            out: list[RecordedSample] = []
            for block in heapq.merge(sorted(started, key=lambda b: b.first_id), later, key=lambda b: b.first_id):
                while pending and pending[0][0] < block.first_id and len(out) < chunk:
                    _, record, holder = heapq.heappop(pending)
                    out.append(self._sample(holder, record))
                if len(out) >= chunk:
                    return out
                for record in self._records(block):
                    if keep(record):
                        heapq.heappush(pending, (record.id, record, block))
            while pending and len(out) < chunk:
                _, record, holder = heapq.heappop(pending)
                out.append(self._sample(holder, record))
            return out

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: a block the recorder moves from ``open_blocks`` to ``sample_blocks``
        meanwhile is seen in exactly one of them."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def _blocks(self, where: str, args: Sequence[Any], order: str, limit: int | None = None) -> Iterator[_Block]:
        """Blocks, whole and being filled, matching ``where``, in ``order`` (a column, maybe DESC)."""
        column, _, desc = order.partition(" ")
        tail = f" ORDER BY {order}" + (f" LIMIT {int(limit)}" if limit else "")
        queries = [self.conn.execute(f"SELECT {_BLOCK_COLUMNS} FROM {table} WHERE {where}{tail}", args)
                   for table in ("sample_blocks", "open_blocks")]
        index = _BLOCK_COLUMNS.split(", ").index(column)
        merged = heapq.merge(*queries, key=lambda row: row[index], reverse=bool(desc))
        for count, row in enumerate(merged):
            if limit and count >= limit:
                return
            yield _Block(*row)

    @staticmethod
    def _block_where(vm_id: int | None, since: float | None, until: float | None,
                     after_id: int) -> tuple[str, list[Any]]:
        clauses, args = ["last_id > ?"], [after_id]
        if vm_id is not None:
            clauses.append("vm = ?")
            args.append(vm_id)
        if since is not None:
            clauses.append("last_ms >= ?")
            args.append(round(since * 1000))
        if until is not None:
            clauses.append("first_ms <= ?")
            args.append(round(until * 1000))
        return " AND ".join(clauses), args

    @staticmethod
    def _keep(since: float | None, until: float | None, after_id: int) -> Callable[[Record], bool]:
        low = round(since * 1000) if since is not None else None
        high = round(until * 1000) if until is not None else None
        return lambda r: r.id > after_id and (low is None or r.wall_ms >= low) and (high is None or r.wall_ms <= high)

    def _where(self, vm: str | None, since: float | None, until: float | None,
               after_id: int) -> tuple[str, list[object]]:
        clauses, args = ["s.id > ?"], list[object]([after_id])
        if vm is not None:
            clauses.append("s.vm = ?")
            args.append(self.vm_id(vm))
        if since is not None:
            clauses.append("s.wall_ms >= ?")
            args.append(round(since * 1000))
        if until is not None:
            clauses.append("s.wall_ms <= ?")
            args.append(round(until * 1000))
        return "WHERE " + " AND ".join(clauses), args

    def _records(self, block: _Block) -> list[Record]:
        key = (block.first_id, block.last_id, len(block.data))  # a block being filled grows: a new key
        records = self._decoded.get(key)
        if records is None:
            records = self._decoded[key] = decode(block.data, block.first_id, block.first_ms)
            if len(self._decoded) > DECODED_BLOCKS:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(key)
        return records

    def _sample(self, block: _Block, r: Record) -> RecordedSample:
        return RecordedSample(r.id, self._names.get(block.vm, "?"), block.run, r.wall_ms / 1000, r.mono_ms / 1000,
                              r.until_ms / 1000 if r.until_ms is not None else None, r.repeats,
                              join(self._shape(r.shape), r.hot))

    def _shape(self, shape: int) -> str:
        known = self._shapes.get(shape)
        if known is None:
            row = self.conn.execute("SELECT json FROM shapes WHERE id = ?", (shape,)).fetchone()
            known = self._shapes[shape] = row[0] if row else "{}"
        return known

    def _vms(self) -> dict[str, RecordedVM]:
        try:
            rows = self.conn.execute("SELECT id, name, grp, notes, host FROM vms ORDER BY id").fetchall()
        except sqlite3.Error as error:
            raise RecordingError(f"{self.path}: cannot read the recording: {error}") from None
        return {row[1]: RecordedVM(*row) for row in rows}
