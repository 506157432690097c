"""The fleet table at any width: the columns that tell the story first, whole columns only."""

from __future__ import annotations

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.widgets.fleet_table import FleetTable
from waiting import settle

STORY = ("name", "link", "status", "pass", "remaining", "outlook")


async def test_80_columns_show_the_story_whole_and_never_scroll_sideways() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        keys = [column.key.value for column in table.ordered_columns]
        assert tuple(keys[:len(STORY)]) == STORY
        widths = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert widths <= table.size.width  # every column shown is shown whole
        assert table.max_scroll_x == 0
        await pilot.press("right", "right", "right")  # what used to scroll sideways moves nothing
        assert table.scroll_x == 0


async def test_a_wider_terminal_shows_more_columns_and_keeps_the_highlight() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        await pilot.press("down", "down")
        assert table.highlighted_vm == "db-1-dst"
        narrow = len(table.ordered_columns)
        assert "sent" not in table.shown_columns
        await pilot.resize_terminal(140, 30)
        await settle(pilot, lambda: len(table.ordered_columns) > narrow, 5, "more columns at 140")
        assert "sent" in table.shown_columns and "downtime" in table.shown_columns
        assert table.highlighted_vm == "db-1-dst" and app.screen.vm == "db-1-dst"
        assert table.get_cell("batch-1", "sent").plain.endswith("/s")
        assert table.row_count == len(app.fleet.states)


async def test_home_and_end_go_to_the_first_and_the_last_vm() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        names = [row.key.value for row in table.ordered_rows]
        await pilot.press("end")
        assert table.highlighted_vm == names[-1] and app.screen.vm == names[-1]
        await pilot.press("home")
        assert table.highlighted_vm == names[0] and app.screen.vm == names[0]


async def test_at_80x24_every_chart_of_a_running_migration_is_reached_by_the_keys() -> None:
    from migtui.widgets.charts import DowntimeChart, RateChart, RemainingChart, ThrottleChart
    from screen_text import screen_text

    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")  # batch-1: migrating, the longest prediction
        await pilot.pause()
        shown = screen_text(app)
        assert "dirty rate vs sent" in shown and "left to send" in shown
        for keys in (["end"], ["pagedown"], ["down"] * 10):
            key = keys[0]
            await pilot.press("home")
            await pilot.press(*keys)
            await pilot.pause()
            shown = screen_text(app)
            assert "expected downtime vs limit" in shown and "throttle" in shown, key
            for chart in (DowntimeChart, ThrottleChart):
                region = app.screen.query_one(chart).region  # on screen, in full
                assert region.height >= 10 and region.bottom <= 23, key
        assert app.screen.query_one(RateChart).region.height >= 10
        assert app.screen.query_one(RemainingChart).region.height >= 10
        # The prediction keeps 6 lines; its last one, the advice, is a Tab and an End away.
        assert "[D] raise downtime-limit" not in screen_text(app)
        await pilot.press("tab", "end")
        await pilot.pause()
        assert "[D] raise downtime-limit" in screen_text(app)


async def test_80_columns_show_up_to_done_with_the_host_column_of_a_fleet_on_hosts() -> None:
    from migtui.cli.demo import DEMO_VMS
    from migtui.widgets.fleet_row import columns_that_fit

    fleet = recorded_fleet()
    for number, state in enumerate(fleet.states.values()):
        state.host = f"hv{number % 2 + 1}"  # as the demo run as root: two lab hosts
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        shown = [str(column.label).strip() for column in table.ordered_columns]
        assert shown == ["VM", "host", "link", "migration", "pass", "left", "outlook", "run", "done"]
        assert table.get_cell("web-1", "run").plain == "migrated"  # postmigrate, in the column's width
        assert table.max_scroll_x == 0
    # The demo's own names (the longest, batch-1-dst) on hosts hv1 and hv2, in the 79 cells the table has.
    longest = max(len(f"{vm.name}-dst") for vm in DEMO_VMS)
    assert columns_that_fit(79, longest, len("hv1"))[-1] == "progress"
