"""A stalled postcopy as each view tells it: watch's lines, the no-progress alert, the fleet at 80x24.

The samples are those QEMU 7.2 gives for a postcopy whose link went down
(tests/test_model.py's ``postcopy_run``: postcopy-active, bytes sent standing
still); tests/test_postcopy_stall_link_qemu.py makes the same on real QEMU.
"""

from __future__ import annotations

import json

from data.traces import recorded_fleet
from migtui.alerts.engine import _holds
from migtui.alerts.rule import Condition
from migtui.app import MigtuiApp
from migtui.cli.narration import Narration
from migtui.fleet_columns import COLUMNS
from migtui.model.convergence import Verdict, postcopy_stalled
from migtui.model.vm_state import VMState
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.outlook import outlook_of
from migtui.widgets.vm_brief import VMBrief
from test_model import MiB, postcopy_run
from waiting import settle


def stalled_postcopy(state: VMState, start: float = 0.0) -> int:
    """Moving for 3 s, then standing still for 7 s; returns the bytes sent."""
    sent = postcopy_run(state, "postcopy-active", start, start + 3.0, 100 * MiB, moving=True)
    postcopy_run(state, "postcopy-active", start + 3.3, start + 10.0, sent, moving=False)
    return sent


def test_the_outlook_of_a_stalled_postcopy_is_one_bad_word_that_fits_its_column() -> None:
    outlook = outlook_of(postcopy_stalled(12))
    width = next(width for key, _, width in COLUMNS if key == "outlook")
    assert (outlook.short, outlook.tone) == ("STALLED!", "bad") and len(outlook.short) <= width
    assert outlook.headline == ("EMERGENCY: postcopy stalled: nothing sent for 12 s; the guest on the destination "
                                "waits for its memory")


def test_the_no_progress_alert_holds_for_a_stalled_postcopy_and_the_stalled_one_does_not() -> None:
    state = VMState("vm1")
    stalled_postcopy(state)
    summary = _holds(Condition.NO_PROGRESS, state, state.prediction)
    assert summary is not None and summary.startswith("EMERGENCY: postcopy stalled: nothing sent for 7 s")
    assert "migtui pause VM" in summary
    assert _holds(Condition.STALLED, state, state.prediction) is None  # "stalled" is a precopy that won't end
    state.incoming = True  # the destination's side of it: the source alone is alerted on
    assert _holds(Condition.NO_PROGRESS, state, state.prediction) is None


def test_watch_tells_a_stalled_postcopy_and_its_stream_moving_again() -> None:
    lines: list[str] = []
    narration = Narration(as_json=True, out=lines.append)
    state = VMState("vm1")
    sent = stalled_postcopy(state)
    narration(state, state.latest)
    sent = postcopy_run(state, "postcopy-active", 10.3, 10.3, sent, moving=True)
    narration(state, state.latest)
    told = [json.loads(line) for line in lines]
    notices = [line["no-progress"] for line in told if "no-progress" in line]
    assert notices == ["nothing sent for 7 s in postcopy (the stream is not moving: link down? the guest on the "
                       "destination waits for its memory)", "the migration stream moves again"]
    verdicts = [line["advice"]["verdict"] for line in told if "advice" in line]
    assert verdicts == ["postcopy-stalled", "postcopy"]


async def test_the_fleet_at_80x24_shows_a_stalled_postcopy_as_the_emergency_it_is() -> None:
    fleet = recorded_fleet()
    batch = fleet.states["batch-1"]
    latest = batch.latest
    assert latest is not None
    stalled_postcopy(batch, start=latest.at + 1)
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(FleetTable)
        await settle(pilot, lambda: table.get_cell("batch-1", "outlook").plain == "STALLED!", 5,
                     "batch-1's outlook to say STALLED!")
        table.select_vm("batch-1")
        await pilot.pause()
        brief = " ".join(str(app.screen.query_one(VMBrief).render()).split())
        assert "postcopy stalled: nothing sent for 7 s" in brief, brief
        assert "pause it (P, or migtui pause VM)" in brief, brief  # the way out, in the one line there is
        assert table.get_cell("db-1", "outlook").plain != "STALLED!"  # the rest of the fleet as it was
        assert Verdict.POSTCOPY_STALLED is batch.prediction().verdict
