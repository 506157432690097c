"""Reading a recording: its VMs, runs, samples and entries, in time order.

Opened read-only: a reader never changes a file, and reads while a recorder
writes (WAL lets readers see each committed second).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migtui.record.codec import join
from migtui.record.schema import HOT_COLUMNS, RecordingError, connect


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


class Recording:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.conn = connect(self.path, write=False)
        self.vms = self._vms()
        self._names = {vm.id: vm.name for vm in self.vms.values()}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Recording":
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
        return [dict(zip(("id", "started", "host", "pid", "version", "command"), row)) for row in cur]

    def span(self) -> tuple[float, float] | None:
        """Wall-clock times of the first and the last thing recorded."""
        # Per VM through the (vm, wall_ms) index: samples have no index on time alone (it would
        # cost a tenth of the file), and their ids are in time order.
        first, last = [], []
        for vm in self.vms.values():
            row = self.conn.execute("SELECT min(wall_ms), max(wall_ms) FROM samples WHERE vm = ?", (vm.id,)).fetchone()
            if row[0] is not None:
                until = self.conn.execute("SELECT coalesce(until_ms, wall_ms) FROM samples WHERE vm = ? "
                                          "ORDER BY wall_ms DESC LIMIT 1", (vm.id,)).fetchone()[0]
                first.append(row[0])
                last.append(max(row[1], until))
        row = self.conn.execute("SELECT min(wall_ms), max(wall_ms) FROM entries").fetchone()
        if row[0] is not None:
            first.append(row[0])
            last.append(row[1])
        return (min(first) / 1000, max(last) / 1000) if first else None

    def last_sample_before(self, at: float) -> int:
        """The id of the last sample taken at or before ``at`` (0: none)."""
        ids = [self.conn.execute("SELECT coalesce(max(id), 0) FROM samples WHERE vm = ? AND wall_ms <= ?",
                                 (vm.id, round(at * 1000))).fetchone()[0] for vm in self.vms.values()]
        return max(ids, default=0)

    def samples(self, vm: str | None = None, *, since: float | None = None, until: float | None = None,
                after_id: int = 0, newest: int | None = None) -> list[RecordedSample]:
        """Samples in time order; ``newest=N``: only the last N (of ``vm``, before ``until``)."""
        where, args = self._where(vm, since, until, after_id)
        order = "DESC" if newest else "ASC"
        limit = f" LIMIT {int(newest)}" if newest else ""
        cur = self.conn.execute(
            f"SELECT s.id, s.vm, s.run, s.wall_ms, s.mono_ms, s.until_ms, s.repeats, shapes.json, "
            f"{', '.join('s.' + c for c in HOT_COLUMNS)} FROM samples s JOIN shapes ON shapes.id = s.shape "
            f"{where} ORDER BY s.wall_ms {order}, s.id {order}{limit}", args)
        rows = [self._sample(row) for row in cur]
        return rows[::-1] if newest else rows

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
        # Rows are in id order, which is the order they were taken in.
        where, args = self._where(vm, since, until, after)
        cur = self.conn.execute(
            f"SELECT s.id, s.vm, s.run, s.wall_ms, s.mono_ms, s.until_ms, s.repeats, shapes.json, "
            f"{', '.join('s.' + c for c in HOT_COLUMNS)} FROM samples s JOIN shapes ON shapes.id = s.shape "
            f"{where} ORDER BY s.id LIMIT {int(chunk)}", args)
        return [self._sample(row) for row in cur]

    def _where(self, vm: str | None, since: float | None, until: float | None, after_id: int) -> tuple[str, list]:
        clauses, args = ["s.id > ?"], [after_id]
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

    def _sample(self, row: tuple[Any, ...]) -> RecordedSample:
        ident, vm, run, wall_ms, mono_ms, until_ms, repeats, shape = row[:8]
        return RecordedSample(ident, self._names.get(vm, "?"), run, wall_ms / 1000, mono_ms / 1000,
                              until_ms / 1000 if until_ms is not None else None, repeats, join(shape, row[8:]))

    def _vms(self) -> dict[str, RecordedVM]:
        try:
            rows = self.conn.execute("SELECT id, name, grp, notes, host FROM vms ORDER BY id").fetchall()
        except sqlite3.Error as error:
            raise RecordingError(f"{self.path}: cannot read the recording: {error}") from None
        return {row[1]: RecordedVM(*row) for row in rows}
