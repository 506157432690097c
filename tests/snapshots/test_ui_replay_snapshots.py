"""A picture of the dashboard on a recording (``migtui replay``), at 80x24 and 120x40.

The recording is written by migtui's own recorder from the recorded real migrations the other
pictures show, on a clock held at the moment after their last sample (the recorder stamps
its entries with the time of day), with each VM's link, run state and settings as the live
fleet has them; the replay is paused at that moment, so the picture is the same anywhere.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from data.traces import recorded_fleet
from migtui.qmp.updates import Aspect, SampleTaken, VMChanged
from migtui.record.reader import Recording
from migtui.record.replay import ReplayFleet
from migtui.record.writer import Recorder
from migtui.replay_app import ReplayApp
from snapshots.test_ui_dashboard_snapshots import SIZES, still


async def record(db: Path) -> None:
    fleet = recorded_fleet()
    for state in fleet.states.values():
        state.host = "hv1"  # where it runs, as the recording names it (else this machine's name)
    async with Recorder(db, fleet) as recorder:
        for name, state in fleet.states.items():
            for aspect in (Aspect.LINK, Aspect.RUN_STATE, Aspect.SETTINGS):
                recorder(VMChanged(name, aspect))
            for sample in state.tracker.history:
                recorder(SampleTaken(name, sample))


@pytest.fixture
def recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    last = max(s.wall for state in recorded_fleet().states.values() for s in state.tracker.history)
    monkeypatch.setattr(time, "time", lambda: last + 1.0)
    db = tmp_path / "fleet.db"
    asyncio.run(record(db))
    monkeypatch.undo()
    return db


class TestReplay:
    @pytest.mark.parametrize("size", SIZES)
    def test_paused_at_the_end(self, snap_compare, recording, size) -> None:
        fleet = ReplayFleet(Recording(recording), paused=True)
        fleet.seek(fleet.last)
        assert snap_compare(ReplayApp(fleet, name="fleet.db", theme="migtui-dark"), terminal_size=size,
                            run_before=still)
