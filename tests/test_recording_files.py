"""The recording file without QEMU: schema versions, folding of idle repeats, retention, times.

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
from migtui.record.schema import RecordingError
from migtui.record.writer import Recorder

ACTIVE = {"status": "active", "total-time": 1200, "expected-downtime": 300,
          "ram": {"transferred": 1000, "remaining": 5000, "total": 134750208, "duplicate": 3, "normal": 1,
                  "normal-bytes": 4096, "dirty-pages-rate": 0, "mbps": 33.5, "dirty-sync-count": 1,
                  "page-size": 4096, "postcopy-requests": 0, "multifd-bytes": 0}}


@pytest.mark.parametrize("layer", ["migtui.record", "migtui.report", "migtui.metrics", "migtui.cli.record",
                                   "migtui.cli.report", "migtui.cli.export", "migtui.cli.replay"])
def test_the_recording_layers_do_not_import_textual(layer):
    code = (f"import importlib, pkgutil, sys\n"
            f"package = importlib.import_module({layer!r})\n"
            f"for info in pkgutil.walk_packages(getattr(package, '__path__', []), {layer!r} + '.'):\n"
            f"    importlib.import_module(info.name)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


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
    assert conn.execute("SELECT count(*), max(repeats), max(until_ms) FROM samples").fetchone() == \
        (2, 99, round((now + 99) * 1000))
    conn.close()
    with Recording(db) as recording:
        assert recording.samples("vm1")[-1].answer == ACTIVE


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
    with pytest.raises(RecordingError, match="recorded with schema 99; this migtui reads up to 1"):
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


def test_times_are_read_as_people_type_them():
    first = datetime(2026, 12, 1, 23, 50, 0).timestamp()
    span = (first, first + 3600)
    assert parse_moment("+5m", span) == first + 300
    assert parse_moment("-90s", span) == first + 3600 - 90
    assert parse_moment("23:55", span) == first + 300
    assert parse_moment("00:10:30", span) == first + 20 * 60 + 30  # past midnight: the next day
    assert parse_duration("48h") == 2 * 86400
