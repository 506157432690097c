"""The recording file without QEMU: schema versions, folding of idle repeats, retention, times
(that its layers never import Textual is in test_layers.py).

Samples are fed to a recorder the way the fleet publishes them; the file is
then read back with sqlite3 directly.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from datetime import datetime

import pytest

from migtui.inventory import VMEntry
from migtui.qmp.fleet import Fleet
from migtui.qmp.updates import SampleTaken
from migtui.record.moments import parse_moment
from migtui.record.reader import Recording
from migtui.record.retention import Retention, parse_duration
from migtui.record.codec import split
from migtui.record.schema import HOT_COLUMNS, STEPS, RecordingError, connect
from migtui.record.writer import Recorder

ACTIVE = {"status": "active", "total-time": 1200, "expected-downtime": 300,
          "ram": {"transferred": 1000, "remaining": 5000, "total": 134750208, "duplicate": 3, "normal": 1,
                  "normal-bytes": 4096, "dirty-pages-rate": 0, "mbps": 33.5, "dirty-sync-count": 1,
                  "page-size": 4096, "postcopy-requests": 0, "multifd-bytes": 0}}


def feed(recorder: Recorder, fleet: Fleet, answer: dict, wall: float) -> None:
    tracker = fleet.states["vm1"].tracker
    recorder(SampleTaken("vm1", tracker.add(answer, at=time.monotonic(), wall=wall)))


@pytest.fixture
def fleet() -> Fleet:
    return Fleet([VMEntry(name="vm1", qmp="/nonexistent/vm1.qmp")])  # never started: samples are fed


async def test_an_idle_vm_repeating_its_answer_is_one_row_and_an_answer_comes_back_as_qemu_spelled_it(
        tmp_path, fleet):
    db = tmp_path / "r.db"
    now = time.time()
    async with Recorder(db, fleet) as recorder:
        for i in range(100):
            feed(recorder, fleet, {"status": "completed", "total-time": 900, "downtime": 3}, now + i)
        feed(recorder, fleet, ACTIVE, now + 100)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM sample_blocks").fetchone()[0] + \
        conn.execute("SELECT count(*) FROM open_blocks").fetchone()[0] == 1
    conn.close()
    with Recording(db) as recording:
        samples = recording.samples("vm1")
        assert [(s.repeats, s.until) for s in samples] == [(99, round((now + 99) * 1000) / 1000), (0, None)]
        assert samples[-1].answer == ACTIVE


async def test_retention_deletes_old_rows_and_keeps_an_idle_span_that_still_repeats(tmp_path, fleet):
    db = tmp_path / "r.db"
    now, day = time.time(), 86400
    async with Recorder(db, fleet) as recorder:
        feed(recorder, fleet, ACTIVE, now - 3 * day)
        feed(recorder, fleet, {"status": "completed"}, now - 3 * day + 1)  # idle since, still repeating:
        feed(recorder, fleet, {"status": "completed"}, now - 1)
        recorder.note("vm1", "policy", {"step": "old"})
        recorder.flush()
        recorder.conn.execute("UPDATE entries SET wall_ms = ?", (round((now - 3 * day) * 1000),))
        deleted = await Retention(recorder.conn, 2 * day, lambda: None).once()
    assert deleted >= 2
    with Recording(db) as recording:
        kept = recording.samples("vm1")
        assert [s.status for s in kept] == ["completed"] and kept[0].repeats == 1
        assert recording.entries(kinds=["policy"]) == []


def test_a_file_of_a_newer_schema_or_of_something_else_is_refused_in_one_line(tmp_path, fleet):
    db = tmp_path / "r.db"
    asyncio.run(_make(db, fleet))
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(RecordingError, match="recorded with schema 99; this migtui reads up to 2"):
        Recording(db)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    result = subprocess.run([sys.executable, "-m", "migtui", "report", str(other)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"migtui: {other}: not a migtui recording (it holds tables of something else)"]


async def _make(db, fleet) -> None:
    async with Recorder(db, fleet) as recorder:
        feed(recorder, fleet, ACTIVE, time.time())


def test_a_file_of_schema_1_is_upgraded_on_recording_and_reads_back_the_same_samples(tmp_path):
    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in STEPS[1].split(";"):  # the version 1 tables, as a migtui of then made them
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO runs VALUES (1, 1.0e9, 5.0, 'h', 1, '0.1', 'migtui record')")
    conn.executemany("INSERT INTO vms (id, name) VALUES (?, ?)", [(1, "vm1"), (2, "vm2")])
    now_ms = round(time.time() * 1000)
    answers = [{"status": "setup"}]
    for i in range(300):  # vm1 migrates (more samples than a block holds), vm2 idles
        answer = {**ACTIVE, "total-time": 1000 * i, "ram": {**ACTIVE["ram"], "transferred": 4_200_000 * i,
                                                            "remaining": 9_000_000 - 30_000 * i, "mbps": 33.5 + i % 3}}
        answers.append(answer)
    shapes: dict[str, int] = {}
    rows = []

    def row(ident: int, vm: int, i: int, answer: dict, until_ms: int | None = None, repeats: int = 0) -> tuple:
        shape, hot = split(answer)
        return (ident, 1, vm, now_ms + 1000 * i, 1000 * i + 3 + vm, until_ms, repeats,
                shapes.setdefault(shape, len(shapes) + 1), *hot)

    for i, answer in enumerate(answers):
        rows.append(row(2 * i + 1, 1, i, answer))
        if i % 100 == 0:
            rows.append(row(2 * i + 2, 2, i, {"status": "completed"}, now_ms + 1000 * i + 900, 9))
    conn.executemany("INSERT INTO shapes (id, json, last_ms) VALUES (?, ?, ?)",
                     [(i, text, now_ms) for text, i in shapes.items()])
    conn.executemany(f"INSERT INTO samples (id, run, vm, wall_ms, mono_ms, until_ms, repeats, shape, "
                     f"{', '.join(HOT_COLUMNS)}) VALUES ({', '.join('?' * (8 + len(HOT_COLUMNS)))})", rows)
    conn.close()
    with pytest.raises(RecordingError, match="schema 1 is older than 2"):
        Recording(db)
    connect(db, write=True).close()  # what `migtui record --db FILE` does first
    with Recording(db) as recording:
        vm1 = recording.samples("vm1")
        assert [s.answer for s in vm1] == answers
        assert [(s.id, round(s.wall * 1000), round(s.mono * 1000)) for s in vm1] == \
            [(r[0], r[3], r[4]) for r in rows if r[2] == 1]
        vm2 = recording.samples("vm2")
        assert [(s.id, s.status, s.repeats, round(s.until * 1000)) for s in vm2] == \
            [(r[0], "completed", 9, r[5]) for r in rows if r[2] == 2]
        assert [s.id for s in recording.iter_samples(chunk=7)] == [r[0] for r in rows]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'samples'").fetchone() == (0,)
    conn.close()


def test_times_are_read_as_people_type_them():
    first = datetime(2026, 12, 1, 23, 50, 0).timestamp()
    span = (first, first + 3600)
    assert parse_moment("+5m", span) == first + 300
    assert parse_moment("-90s", span) == first + 3600 - 90
    assert parse_moment("23:55", span) == first + 300
    assert parse_moment("00:10:30", span) == first + 20 * 60 + 30  # past midnight: the next day
    assert parse_duration("48h") == 2 * 86400


def test_a_recording_another_writer_holds_is_refused_in_one_line_and_left_whole(tmp_path, fleet):
    db = tmp_path / "r.db"
    asyncio.run(_make(db, fleet))
    with Recording(db) as recording:
        before = [(s.wall, s.status) for s in recording.samples("vm1")]
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")  # another recorder in the middle of its write
    try:
        result = subprocess.run([sys.executable, "-m", "migtui", "record", "--db", str(db), "--vm",
                                 "vm1=/nonexistent/vm1.qmp", "--duration", "1", "--audit-log",
                                 str(tmp_path / "audit.jsonl")], capture_output=True, text=True, timeout=60)
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"migtui: {db}: cannot write the recording: database is locked"]
    with Recording(db) as recording:
        assert [(s.wall, s.status) for s in recording.samples("vm1")] == before
