"""Pictures of the screens the other picture files do not show: the snapshots screen with its
jobs, and the error screen of a bug, at 80x24 and 120x40.

The recorded fleet never connects: the VM's snapshots and disks are given here as QEMU would
list them, and its jobs carry fixed times, so the pictures are the same anywhere.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.pilot import Pilot

from migtui.model.jobs import Job
from migtui.model.snapshots import Snapshot
from migtui.qmp import snapshots
from migtui.screens.error import ErrorScreen
from migtui.screens.snapshots import SnapshotsScreen
from snapshots.test_ui_dashboard_snapshots import SIZES, dashboard, still
from waiting import settle

SAVED = [Snapshot("disk0", "1", "before-upgrade", datetime(2026, 12, 7, 3, 14, 15), 48 << 20, 812.5),
         Snapshot("disk0", "2", "nightly", datetime(2026, 12, 7, 4, 0, 0), 51 << 20, 3510.0)]


@pytest.fixture(autouse=True)
def disks_of_db_1(monkeypatch: pytest.MonkeyPatch) -> None:
    async def listed(session: object) -> list[Snapshot]:
        return list(SAVED)

    async def nodes(session: object) -> list[str]:
        return ["disk0"]

    monkeypatch.setattr(snapshots, "list_snapshots", listed)
    monkeypatch.setattr(snapshots, "snapshot_nodes", nodes)


def job(ident: str, kind: str, phases: list[tuple[str, float]], error: str | None = None) -> Job:
    made = Job(id=ident, type=kind)
    for status, at in phases:
        made.enter(status, at)
    made.error = error
    return made


class TestSnapshotsScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_snapshots_and_jobs(self, snap_compare, size) -> None:
        app = dashboard()
        book = app.fleet.states["db-1"].jobs
        book.jobs["save-nightly-040000"] = job("save-nightly-040000", "snapshot-save",
                                               [("created", 100.0), ("running", 100.1), ("concluded", 104.3)])
        book.jobs["load-reel-041500"] = job("load-reel-041500", "snapshot-load",
                                            [("created", 200.0), ("running", 200.2), ("concluded", 200.4)],
                                            error="Snapshot 'reel' does not exist in one or more devices")

        async def run_before(pilot: Pilot) -> None:
            app.controls.open_snapshots("db-1")
            await settle(pilot, lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.listed, 5,
                         "the snapshots listed")
            await still(pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)


class TestErrorScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_a_bug_with_its_traceback(self, snap_compare, size) -> None:
        app = dashboard()
        details = ("Traceback (most recent call last):\n"
                   '  File "migtui/widgets/field_editors.py", line 185, in compose\n'
                   "    yield Select(options, value=names[0])\n"
                   "IndexError: list index out of range")

        async def run_before(pilot: Pilot) -> None:
            app.push_screen(ErrorScreen("Opening the snapshot-save form failed",
                                        "IndexError: list index out of range (a bug in migtui)", details))
            await settle(pilot, lambda: isinstance(app.screen, ErrorScreen), 5, "the error screen")
            await still(pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)
