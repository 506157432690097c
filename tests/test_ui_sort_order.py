"""The fleet's sort key (s) moves through the columns left to right, as they are on screen."""

from __future__ import annotations

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.widgets.fleet_table import FleetTable

SORTABLE_HEADERS = {"VM", "link", "migration", "left", "done", "dirty", "sent", "downtime", "thr"}
"""What docs/dashboard.md says rows can be ordered by (the rest are words or pictures)."""


async def test_s_moves_the_order_through_the_columns_left_to_right() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        on_screen = [str(column.label).strip() for column in table.ordered_columns]
        expected = [header for header in on_screen if header in SORTABLE_HEADERS]
        assert len(expected) == len(SORTABLE_HEADERS)
        seen = []
        for _ in expected:
            seen.append(app.screen.sub_title.rsplit("sorted by ", 1)[1])
            await pilot.press("s")
        assert seen == expected
        assert app.screen.sub_title.endswith("sorted by VM")  # round again
