"""Recording a real lab migration through a SIGKILL, then reporting on it and replaying it.

One recording (tests/recorded_lab.py) serves every test here: ``migtui record``
killed with SIGKILL mid-migration and started again on the same file.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migtui.units import human_bytes
from migtui.record.reader import Recording
from migtui.record.replay import ReplayFleet
from migtui.replay_app import ReplayApp
from migtui.screens.vm import VMScreen
from recorded_lab import PLAN
from terminal_output import report_html
from waiting import settle

pytestmark = pytest.mark.qemu


def raw(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def vm1_samples(db: Path) -> list[tuple]:
    """(run, wall_ms, status, remaining, passes) of each vm1 sample committed, read by a reader of its own."""
    with Recording(db) as recording:
        return [(s.run, round(s.wall * 1000), s.status, s.answer.get("ram", {}).get("remaining"),
                 s.answer.get("ram", {}).get("dirty-sync-count")) for s in recording.samples("vm1")]


MIGTUI = (sys.executable, "-m", "migtui")


def migtui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MIGTUI, *args], capture_output=True, text=True, timeout=60)


def test_a_recorder_killed_mid_migration_loses_at_most_a_second_and_the_file_holds_both_parts(recorded):
    db = recorded.db
    assert raw(db, "PRAGMA integrity_check") == [("ok",)]
    assert [row[0] for row in raw(db, "SELECT id FROM runs ORDER BY id")] == [1, 2]
    rows = vm1_samples(db)
    first = [r for r in rows if r[0] == 1]
    second = [r for r in rows if r[0] == 2]
    assert any(r[2] == "active" for r in first), first
    assert second[-1][2] == "completed"
    assert any(r[2] == "active" for r in second)  # the second recorder joined the same migration
    # Batches of a second: what the killed recorder had committed reaches to within about a
    # second (plus one poll interval) of the kill.
    last_of_first = max(r[1] for r in first) / 1000
    assert recorded.killed_at - last_of_first < 1.0 + 0.2 + 0.3
    # One migration across both runs, with the recorder's absence as a gap.
    result = migtui("report", str(db), "--vm", "vm1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["migrations_recorded"] == 1
    assert report["outcome"] == "completed"


def test_report_json_gives_the_real_outcome_passes_and_downtime(recorded):
    result = migtui("report", str(recorded.db), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    final = recorded.final  # QEMU's own answer, read beside migtui
    assert report["vm"] == "vm1" and report["role"] == "source"
    assert report["outcome"] == "completed"
    assert report["passes"] == final["ram"]["dirty-sync-count"] >= 2
    assert report["downtime_ms"]["achieved"] == final["downtime"]
    assert report["downtime_ms"]["limit"] == PLAN["downtime-limit"]
    assert report["duration_s"] == final["total-time"] / 1000
    assert report["bytes"]["transferred"] == final["ram"]["transferred"]
    changed = {c["what"]: c["to"] for c in report["changes"]}
    assert changed["downtime-limit"] == PLAN["downtime-limit"] and changed["max-bandwidth"] == PLAN["max-bandwidth"]
    names = [e["event"] for e in report["events"]]
    assert "MIGRATION_PASS" in names and names[-1] == "MIGRATION"
    assert report["verdict"]["why"].startswith("converged")


def test_report_html_is_one_page_with_its_charts(recorded, tmp_path):
    page = tmp_path / "report.html"
    result = report_html(MIGTUI, recorded.db, page)
    # matplotlib's own lines (building its font cache on a first run) never reach the terminal
    assert (result.returncode, result.stderr.splitlines()) == (0, [f"wrote {page}"])
    text = page.read_text()
    images = [part.split("'", 1)[0] for part in text.split("src='data:image/png;base64,")[1:]]
    assert len(images) == 3
    for image in images:
        png = base64.b64decode(image)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert "Bytes left to send" in text and "completed" in text


def test_report_of_a_vm_the_recording_does_not_hold_is_one_line(recorded):
    result = migtui("report", str(recorded.db), "--vm", "db-1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"migtui: {recorded.db}: no VM named 'db-1' in the recording (recorded: vm1, vm1-dst)"]


def test_samples_export_as_csv_and_json_lines(recorded):
    rows = [r for r in vm1_samples(recorded.db) if r[2] != "none"]
    csv_lines = migtui("report", str(recorded.db), "--csv", "-").stdout.splitlines()
    assert csv_lines[0].startswith("time,vm,status,pass,progress,remaining_bytes")
    assert len(csv_lines) == 1 + len(rows)
    assert csv_lines[-1].split(",")[2] == "completed"
    objects = [json.loads(line) for line in migtui("report", str(recorded.db), "--jsonl", "-").stdout.splitlines()]
    assert [o["sample"]["status"] for o in objects] == [r[2] for r in rows]
    assert [o["sample"].get("ram", {}).get("remaining") for o in objects] == [r[3] for r in rows]


def _title(app: ReplayApp) -> str:
    return str(app.screen.query_one("#vm-title").render())


async def test_replay_shows_the_recorded_figures_at_their_times_and_seeks_pauses_and_steps(recorded):
    rows = [r for r in vm1_samples(recorded.db) if r[2] == "active" and r[3]]
    middle = rows[len(rows) // 2]
    at = middle[1] / 1000

    def shows_the_file_at(moment: float) -> bool:
        """Whether the VM screen shows the newest vm1 sample of the file at ``moment`` (read by a reader of its own)."""
        rows = [r for r in vm1_samples(recorded.db) if r[1] <= round(moment * 1000)]
        title = _title(app)
        if not rows or rows[-1][2] == "none":
            return " left" not in title
        if rows[-1][2] == "active":
            return f"{human_bytes(rows[-1][3])} left" in title and f"pass {rows[-1][4]}" in title
        return rows[-1][2] in title and " left" not in title

    recording = Recording(recorded.db)
    app = ReplayApp(ReplayFleet(recording, start=at, paused=True), name="lab.db", open_vm="vm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        fleet = app.fleet
        assert f"{human_bytes(middle[3])} left" in _title(app) and f"pass {middle[4]}" in _title(app)
        assert "paused" in app.title and "read-only" not in app.title
        assert not app.controls.may("cancel", "vm1")  # nothing reaches a VM
        # Paused: the clock and the figures stay.
        before = fleet.position, _title(app)
        await pilot.pause(0.3)
        assert (fleet.position, _title(app)) == before
        # Step: on to the next recorded sample (of any VM), still paused.
        with Recording(recorded.db) as other:
            following = min(round(s.wall * 1000) for s in other.samples(since=(middle[1] + 1) / 1000))
        await pilot.press("full_stop")
        assert round(fleet.position * 1000) == following and fleet.paused
        # Seek back and on again: the figures as they were at each moment.
        await pilot.press("left_square_bracket")
        assert shows_the_file_at(fleet.position)
        await pilot.press("right_square_bracket")
        assert shows_the_file_at(fleet.position)
        await pilot.press("right_curly_bracket")
        assert shows_the_file_at(fleet.position) and fleet.position == fleet.last
        # Play at 8x from the middle: the end comes at the recorded pace, not at once.
        fleet.seek(at)
        await pilot.press("plus", "plus", "plus")
        assert fleet.speed == 8
        end = vm1_samples(recorded.db)[-1][1] / 1000
        started = time.monotonic()
        await pilot.press("space")
        await settle(pilot, lambda: "completed" in _title(app), 30, "the replayed migration to complete")
        assert time.monotonic() - started >= (end - at) / 8 * 0.8
    recording.close()


async def test_the_vm_screen_exports_its_samples(recorded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recording = Recording(recorded.db)
    fleet = ReplayFleet(recording, paused=True)
    fleet.seek(fleet.last)
    app = ReplayApp(fleet, name="lab.db", open_vm="vm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        await pilot.press("w", "w")  # window: all
        await pilot.press("x")
        await settle(pilot, lambda: list(tmp_path.glob("migtui-vm1-*.jsonl")), 5, "the export written")
    recording.close()
    objects = [json.loads(line) for line in next(tmp_path.glob("migtui-vm1-*.jsonl")).read_text().splitlines()]
    rows = vm1_samples(recorded.db)
    assert [o["sample"]["status"] for o in objects] == [r[2] for r in rows]
    assert len(next(tmp_path.glob("migtui-vm1-*.csv")).read_text().splitlines()) == 1 + len(rows)


async def test_a_replay_offers_no_key_that_needs_a_live_vm_and_promises_no_reconnection(recorded):
    recording = Recording(recorded.db)
    fleet = ReplayFleet(recording, paused=True)
    fleet.seek(fleet.last)  # the end of the recording: the recorder's links went down with it
    app = ReplayApp(fleet, name="lab.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        keys = {active.binding.key for active in app.active_bindings.values()}
        assert "enter" in keys and not keys & {"e", "n", "r"}
        for vm in ("vm1", "vm1-dst"):
            app.screen.vm = vm
            await pilot.pause()
            brief = str(app.screen.query_one("#fleet-brief").render())
            assert "reconnects" not in brief, brief
        assert any(state.link != "connected" for state in fleet.states.values())  # the case above was seen
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        keys = {active.binding.key for active in app.active_bindings.values()}
        assert not keys & {"e", "n", "r"}
    recording.close()
