"""The VM screen's charts read right: no series or legend hidden under another, mark labels above the
data, an x axis with its unit, and the downtime limit as it was at each moment."""

from __future__ import annotations

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.screens.vm import VMScreen
from migtui.widgets.charts import DowntimeChart, RateChart
from screen_text import screen_text
from waiting import settle

DATA = set("▖▗▘▙▚▛▜▝▞▟▀▄▌▐█•◆━")
"""Characters plotext draws data with (half blocks, the dots and diamonds of the series, the limit)."""


async def chart_lines(app: MigtuiApp, kind: type) -> list[str]:
    """The chart's rows as the terminal shows them, inside its frame (y labels and borders cut away)."""
    chart = app.screen.query_one(kind)
    region = chart.region
    rows = screen_text(app).splitlines()[region.y:region.bottom]
    return [row[region.x:region.right] for row in rows]


def plot_rows(lines: list[str]) -> list[str]:
    """What is inside the frame: the rows between ┌ and └, after the y axis's ┤ or │."""
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    axis = lines[top].index("┌")  # the y axis's column: ┤ at a label, │ elsewhere
    return [line[axis + 1:].rstrip().removesuffix("│") for line in lines[top + 1:bottom]]


async def open_vm(app: MigtuiApp, pilot, vm: str) -> None:
    app.controls.open_vm(vm)
    await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
    await pilot.pause()


async def test_legend_and_mark_labels_stay_clear_of_the_data_and_the_x_axis_says_seconds() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False, theme="migtui-dark")
    state = app.fleet.states["batch-1"]  # its guest dirties all QEMU sends: the two lines meet
    app.add_mark("batch-1", "demo started", at=state.latest.at - 20)
    app.add_mark("batch-1", "postcopy-ram on", at=state.latest.at - 14)  # close: a label is cut, not overlaid
    async with app.run_test(size=(120, 40)) as pilot:
        await open_vm(app, pilot, "batch-1")
        lines = await chart_lines(app, RateChart)
        inside = plot_rows(lines)
        assert inside[0].strip() == "▞▞ sent"  # the legend rows: nothing else
        assert inside[1].strip() == "◆◆ dirty = sent"
        label_row = inside[2]
        assert "demo" in label_row and not DATA & set(label_row.replace("│", "").replace("demo started", "")
                                                    .replace("postcopy-ram on", "").replace("…", "")), label_row
        assert any("▀" in row or "▄" in row or "▞" in row for row in inside[3:])  # the sent line is drawn
        axis = lines[-1].split()
        assert axis[-1] == "now" and all(label.endswith("s") for label in axis[:-1]) and len(axis) >= 3


async def test_the_downtime_limit_is_drawn_as_it_was_a_step_where_it_was_raised() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False, theme="migtui-dark")
    state = app.fleet.states["batch-1"]  # its limit was 50 ms throughout the recording
    state.set_settings({**state.parameters, "downtime-limit": 5200}, state.capabilities, at=state.latest.at - 10)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_vm(app, pilot, "batch-1")
        inside = plot_rows(await chart_lines(app, DowntimeChart))
        drawn = [row for row in inside[2:] if "━" in row]  # below the legend
        high, low = drawn[0], drawn[-1]
        assert high != low
        # 5200 from the change (10 s of the 30 s shown: the last third) to now, 50 before it.
        assert high.index("━") > len(high) * 0.55 and high.rstrip().endswith("━")
        assert low.index("━") <= 1 and low.rstrip("━ ").__len__() < len(low) * 0.75


async def test_the_label_of_a_mark_near_now_ends_at_its_line_whole() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False, theme="migtui-dark")
    state = app.fleet.states["batch-1"]
    app.add_mark("batch-1", "downtime-limit 50 → 5200", at=state.latest.at - 1.5)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_vm(app, pilot, "batch-1")
        label_row = plot_rows(await chart_lines(app, RateChart))[2]
        assert "downtime-limit 50 → 5200" in label_row, label_row
