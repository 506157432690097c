"""Pictures of the dashboard fed from recorded real migrations, at 80x24 and 120x40.

Run ``pytest tests/snapshots --snapshot-update`` after a deliberate change
of the screens, and look at the report before committing the new SVGs.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from data.traces import recorded_fleet
from migtui.app import MigtuiApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def dashboard(read_only: bool = False) -> MigtuiApp:
    return MigtuiApp(recorded_fleet(read_only), start_fleet=False, theme="migtui-dark")


async def still(pilot: Pilot) -> None:
    """No blinking cursor, everything laid out."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


class TestFleetScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_fleet(self, snap_compare, size) -> None:
        assert snap_compare(dashboard(), terminal_size=size, run_before=still)

    def test_filtered_and_sorted(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("slash", *"lab active", "enter", "s", "s", "s", "s", "s", "S")  # dirty, largest first
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(120, 40), run_before=run_before)

    def test_no_color(self, snap_compare, monkeypatch) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        app = MigtuiApp(recorded_fleet(), start_fleet=False)
        assert app.theme == "migtui-dark" and app.no_color  # Textual greys it out
        assert snap_compare(app, terminal_size=(80, 24), run_before=still)

    def test_read_only_has_no_controls(self, snap_compare) -> None:
        assert snap_compare(dashboard(read_only=True), terminal_size=(80, 24), run_before=still)


class TestVMScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_charts_of_a_stuck_migration(self, snap_compare, size) -> None:
        app = dashboard()
        latest = app.fleet.states["batch-1"].latest
        app.add_mark("batch-1", "auto-converge on", at=latest.at - 12)  # a chart mark, as later features add

        async def run_before(pilot: Pilot) -> None:
            await pilot.press("enter")
            await still(pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_converging(self, snap_compare, size) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("down", "enter")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=size, run_before=run_before)

    def test_sample_fields(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("enter", "2")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(120, 40), run_before=run_before)

    def test_event_log_filtered(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("enter", "slash", *"pass", "enter")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(120, 40), run_before=run_before)


class TestMigrateDialog:
    """Every field of the migrate dialog shows its content and its state while it has focus."""

    @pytest.mark.parametrize("field", ["migrate-destinations", "migrate-uri", "cap-postcopy-ram",
                                       "cap-auto-converge", "migrate-policy"])
    def test_focused_field(self, snap_compare, field) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press(*["down"] * 5, "m")  # web-1-dst: running, not migrating
            await pilot.pause()
            dialog = pilot.app.screen
            if field == "migrate-uri":
                await pilot.press("tab", *"tcp:10.0.0.2:4444")
            else:
                dialog.query_one(f"#{field}").focus()
            if field == "cap-postcopy-ram":
                await pilot.press("space")  # ticked: its state must show while focused
            await dialog.workers.wait_for_complete()
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(80, 30), run_before=run_before)


class TestHelp:
    """? on a screen: its keys first, then what its columns and figures mean."""

    def test_fleet_help(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("question_mark")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(80, 24), run_before=run_before)

    def test_fleet_help_scrolled_to_the_figures(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("question_mark", "end")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(80, 24), run_before=run_before)

    def test_vm_help(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("enter", "question_mark")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(80, 24), run_before=run_before)
