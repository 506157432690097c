"""A key that cannot act says why, in a notification naming the VM.

The fleet is replayed from recorded lab migrations: web-1's migration
completed, batch-1's runs (postcopy-ram off), db-1-dst waits for one.
"""

from __future__ import annotations

from textual.message import Message
from textual.notifications import Notify

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.fleet import FleetScreen
from migtui.screens.palette import VMCommands
from migtui.screens.vm import VMScreen
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.prediction_panel import PredictionPanel
from migtui.widgets.vm_brief import VMBrief
from waiting import settle


def told(seen: list[Message]) -> list[str]:
    return [str(m.notification.message) for m in seen if isinstance(m, Notify)]


async def press_on(pilot, vm: str, key: str, seen: list[Message]) -> str:
    """Highlight ``vm`` in the fleet table, press ``key``, return the notification it brought."""
    table = pilot.app.screen.query_one(FleetTable)
    table.select_vm(vm)
    await pilot.pause()
    before = len(told(seen))
    await pilot.press(key)
    await settle(pilot, lambda: len(told(seen)) > before, 5, f"a notification after {key} on {vm}")
    return told(seen)[-1]


async def test_controls_of_a_completed_vm_say_its_migration_completed() -> None:
    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert await press_on(pilot, "web-1", "c", seen) == \
            "web-1: no migration runs from web-1 (the last one completed), nothing to cancel."
        assert "nothing to switch to postcopy" in await press_on(pilot, "web-1", "p", seen)
        assert await press_on(pilot, "web-1", "m", seen) == \
            "web-1 is postmigrate (its migration completed): only a running or paused VM migrates."
        assert not isinstance(app.screen, ConfirmDialog)
        footer_c = app.screen.active_bindings["c"]  # the footer still shows Cancel, greyed out
        assert (footer_c.binding.description, footer_c.enabled) == ("Cancel", False)


async def test_postcopy_without_postcopy_ram_names_the_side_where_it_is_off() -> None:
    seen: list[Message] = []
    fleet = recorded_fleet()
    assert not fleet.states["batch-1"].capabilities.get("postcopy-ram")
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert await press_on(pilot, "batch-1", "p", seen) == \
            "batch-1: postcopy needs postcopy-ram on both sides; it is off on batch-1."
        # On at the source, off at the destination the dashboard migrated it to.
        fleet.states["batch-1"].capabilities["postcopy-ram"] = True
        app.controls.destinations["batch-1"] = "db-1-dst"
        assert await press_on(pilot, "batch-1", "p", seen) == \
            "batch-1: postcopy needs postcopy-ram on both sides; it is off on db-1-dst."
        fleet.states["db-1-dst"].capabilities["postcopy-ram"] = True
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the postcopy question")


async def test_a_waiting_destination_and_a_vm_that_is_down_say_why() -> None:
    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert await press_on(pilot, "db-1-dst", "m", seen) == \
            "db-1-dst waits for an incoming migration: it can be migrated to, not from."
        assert await press_on(pilot, "old-1", "c", seen) == \
            "old-1: not connected (link disconnected); migtui reconnects on its own."


async def test_the_palette_gives_the_same_reason_as_the_key() -> None:
    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        provider = VMCommands(app.screen)
        await provider.startup()
        command = next(call for name, call, _ in provider._commands if name == "postcopy web-1")
        command()
        await settle(pilot, lambda: told(seen), 5, "a notification")
        assert told(seen)[-1] == "web-1: no migration runs from web-1 (the last one completed), nothing to switch to postcopy."


async def test_read_only_says_so_for_a_hidden_control() -> None:
    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(read_only=True), start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert await press_on(pilot, "batch-1", "c", seen) == "migtui runs read-only: no cancel."


async def test_an_advice_key_without_a_migration_says_so() -> None:
    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert await press_on(pilot, "web-1", "D", seen) == \
            "web-1: no migration runs from web-1 (the last one completed), nothing to change."


async def test_read_only_controls_refuse_when_asked_directly_and_the_advice_names_no_key() -> None:
    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(read_only=True), start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        # No key or palette entry leads here in read-only mode; the controls refuse all the same.
        for name, words in (("migrate", "migrate"), ("cancel", "cancel"), ("postcopy", "postcopy"),
                            ("advised-downtime", "change of parameters")):
            before = len(told(seen))
            app.controls.run(name, "batch-1")
            await settle(pilot, lambda: len(told(seen)) > before, 5, f"a notification after {name}")
            assert told(seen)[-1] == f"migtui runs read-only: no {words}."
            assert isinstance(app.screen, FleetScreen), name  # no dialog: nothing is asked, nothing sent
        # batch-1 will not converge: the advice is told, without a key that would be refused.
        app.screen.query_one(FleetTable).select_vm("batch-1")
        await pilot.pause()
        brief = str(app.screen.query_one(VMBrief).render())
        assert "→ downtime-limit" in brief and "[D]" not in brief
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        panel = str(app.screen.query_one(PredictionPanel).render())
        assert "→ raise downtime-limit" in panel and "[D]" not in panel


async def test_a_paused_postcopy_is_the_emergency_and_r_asks_to_recover_it_naming_both_vms() -> None:
    seen: list[Message] = []
    fleet = recorded_fleet()
    ram = {"transferred": 1, "remaining": 1 << 20, "total": 128 << 20, "dirty-sync-count": 3}
    for vm in ("batch-1", "web-1-dst"):  # both sides of the broken postcopy say so
        fleet.states[vm].tracker.add({"status": "postcopy-paused", "ram": ram})
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        assert "not connected" not in await press_on(pilot, "db-1", "R", seen)  # db-1 runs a plain precopy
        assert "recover acts on a postcopy-paused one" in told(seen)[-1]
        assert "split between two hosts" in fleet.states["batch-1"].prediction().summary
        app.screen.query_one(FleetTable).select_vm("batch-1")
        await pilot.pause()
        await pilot.press("R")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the recovery question")
        assert "batch-1" in app.screen.question and "web-1-dst" in app.screen.question
        await pilot.press("n")  # nothing is sent: this fleet never connected
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmDialog), 5, "the question to go")
