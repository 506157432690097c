"""? (or F1) opens the help of the current screen: its keys and what its figures mean; ?, Esc or F1 close it."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Input, Static

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.screens.fleet import FleetScreen
from migtui.screens.help import HelpScreen
from migtui.screens.vm import VMScreen
from waiting import settle


def shown(help_screen: HelpScreen, part: str) -> str:
    """The text of a part of the help, as a terminal 200 columns wide would show it."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(help_screen.query_one(f"#help-{part}", Static).content)
    return console.export_text()


async def test_question_mark_opens_the_fleet_help_and_closes_it() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "the help screen")
        help_screen = app.screen
        keys = shown(help_screen, "keys")
        for words in ("Migrate the VM", "Cancel the migration of the VM", "Raise downtime-limit", "Reverse the order",
                      "Find any action of any VM", "Read the state, parameters"):
            assert words in keys, words
        assert "Why no" not in keys  # the hidden fallbacks of refused keys are no keys of their own
        assert "Cursor up" not in keys  # the table's own cursor keys are not the screen's
        terms = shown(help_screen, "terms")
        for term in ("pass", "dirty", "downtime", "outlook", "expected downtime"):
            assert term in terms, term
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen), 5, "back on the fleet")
        await pilot.press("f1")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "the help again, with F1")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen), 5, "back on the fleet, with Esc")
        await pilot.press("f1", "f1")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen), 5, "F1 closes it too")


async def test_the_vm_screen_has_its_own_help() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "the help screen")
        keys, terms = shown(app.screen, "keys"), shown(app.screen, "terms")
        assert "History on the charts" in keys and "Back to the fleet" in keys
        assert "dirty rate" in terms and "marks" in terms
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "back on the VM screen")


async def test_a_question_mark_typed_into_the_filter_is_text() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", "w", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        assert app.screen.query_one("#fleet-filter", Input).value == "w?"


async def test_read_only_help_lists_no_control() -> None:
    app = MigtuiApp(recorded_fleet(read_only=True), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "the help screen")
        keys = shown(app.screen, "keys")
        assert "Migrate the VM" not in keys and "Cancel the migration" not in keys and "downtime-limit" not in keys
        assert "Order by the next column" in keys


async def test_q_on_the_help_leaves_migtui_as_it_does_on_every_screen() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "the help screen")
        await pilot.press("q")
        await settle(pilot, lambda: not app.is_running, 5, "migtui ended")
