"""One table of VM actions: every entry is a key on its screens, a palette command and a line of help."""

from __future__ import annotations

from data.traces import recorded_fleet
from textual.binding import Binding

from migtui.app import MigtuiApp
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.fleet import FleetScreen
from migtui.screens.help import keys_of
from migtui.screens.palette import VMCommands
from migtui.screens.vm import VMScreen
from migtui.ops.actions import VM_ACTIONS
from waiting import settle


async def test_every_action_of_the_table_is_a_key_a_command_and_help() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        provider = VMCommands(app.screen)
        await provider.startup()
        commands = {name for name, _, _ in provider._commands}
        for screen_name, screen_class in (("fleet", FleetScreen), ("vm", VMScreen)):
            if screen_name == "vm":
                await pilot.press("enter")
                await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
            screen = app.screen
            assert isinstance(screen, screen_class)
            bound = {(binding.key, binding.action) for binding in screen_class.BINDINGS}
            helped = {key for key, _, _ in keys_of(screen)}
            for action in VM_ACTIONS:
                assert f"{action.name} batch-1" in commands
                assert action.verb in app.controls.carried_out(), action.name  # the controls carry it out
                if screen_name not in action.screens:
                    continue
                assert (action.key, f"vm('{action.name}')") in bound, (screen_name, action.name)
                assert app.get_key_display(Binding(action.key, "")) in helped


async def test_a_key_and_its_palette_command_ask_the_same() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        provider = VMCommands(app.screen)
        await provider.startup()
        command = next(call for name, call, _ in provider._commands if name == "advised-downtime batch-1")
        command()
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the advice question")
        asked = app.screen.question
        assert "downtime-limit" in asked and "→" in asked
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen), 5, "back on the fleet")
        await pilot.press("D")  # batch-1 is highlighted
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the question again")
        assert app.screen.question == asked


async def test_the_footer_greys_out_the_controls_of_the_highlighted_vm_as_it_changes() -> None:
    from textual.widgets._footer import FooterKey
    from migtui.widgets.fleet_table import FleetTable

    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        def greyed() -> dict[str, bool]:
            return {key.action: key.has_class("-disabled") for key in app.screen.query(FooterKey)
                    if not key.has_class("-command-palette")}  # the app's, not the screen's

        def allowed() -> dict[str, bool]:  # what the screen lets the keys do now
            return {binding.action: not enabled for _, binding, enabled, _ in app.screen.active_bindings.values()
                    if binding.show}

        assert app.screen.vm == "batch-1"  # mid-migration: it can be cancelled
        assert greyed()["vm('cancel')"] is False
        table = app.screen.query_one(FleetTable)
        for vm, cancel_greyed in (("web-1", True), ("batch-1", False)):  # completed, then back
            table.select_vm(vm)
            await settle(pilot, lambda: greyed()["vm('cancel')"] is cancel_greyed, 5, f"the cancel key for {vm}")
            assert greyed() == allowed()
