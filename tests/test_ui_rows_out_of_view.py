"""Rows out of view catch up: a row scrolled into view, or found by the filter,
shows its VM's latest figures (the table brings such rows up to date only
when they can be seen; see widgets/fleet_table.py)."""

from __future__ import annotations

from data.traces import load_trace, recorded_fleet
from migtui.app import MigtuiApp
from migtui.qmp.updates import SampleTaken
from migtui.units import compact_bytes
from migtui.widgets.fleet_table import FleetTable
from waiting import settle

SMALL = (120, 11)
"""Three rows of the six VMs in view: web-1 and web-1-dst are below it."""


def start_again(app: MigtuiApp) -> int:
    """web-1 (its migration done) starts another: a sample of it mid-migration; what is left."""
    state = app.fleet.states["web-1"]
    entry = next(e for e in load_trace("converging").samples if e["answer"].get("status") == "active"
                 and e["answer"].get("ram", {}).get("remaining"))
    sample = state.tracker.add(entry["answer"], at=state.latest.at + 1.0, wall=entry["wall"])
    app.feed(SampleTaken("web-1", sample))
    return sample.remaining


async def test_a_row_scrolled_into_view_shows_the_latest_sample() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert table.get_row_index("web-1") >= table.scrollable_content_region.height  # below the view (and header)
        left = start_again(app)
        await pilot.pause(1.5)  # longer than the table takes to repaint a row in view
        table.select_vm("web-1")  # the cursor goes down to it: the table scrolls
        await settle(pilot, lambda: table.get_cell("web-1", "status").plain == "active"
                     and table.get_cell("web-1", "remaining").plain == compact_bytes(left),
                     2, "web-1's row on its latest sample once in view")


async def test_the_filter_finds_a_row_out_of_view_by_its_latest_state() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        start_again(app)
        await pilot.pause(1.5)
        app.screen.filter_text = "active"
        await settle(pilot, lambda: "web-1" in {row.key.value for row in table.ordered_rows},
                     2, "the filter listing web-1, now migrating again")
        assert table.get_cell("web-1", "status").plain == "active"
