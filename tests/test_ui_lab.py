"""The dashboard driven with Pilot against real QEMU VMs of a lab.

Every wait is on a condition with a deadline; the lab fixture stops every
QEMU it started, pass or fail.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Button

from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.qmp import migration
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.error import ErrorScreen
from migtui.screens.fleet import FleetScreen
from migtui.screens.migrate import MigrateDialog
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.prediction_panel import PredictionPanel
from migtui.widgets.vm_brief import VMBrief
from waiting import settle

pytestmark = pytest.mark.qemu
MIB = 1024 * 1024


def cell(app: MigtuiApp, vm: str, column: str) -> str:
    return _fleet_table(app).get_cell(vm, column).plain


def _fleet_table(app: MigtuiApp) -> FleetTable:
    fleet_screen = next(s for s in app.screen_stack if isinstance(s, FleetScreen))
    return fleet_screen.query_one(FleetTable)


async def dashboard_on(lab: Lab, directory: Path, *, dirty_mib: float, rate: float) -> MigtuiApp:
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=dirty_mib, dirty_rate_mib_s=rate)
    await lab.start_destination("vm1-dst", like=source)
    inventory = load_inventory(lab.write_inventory(directory / "inventory.toml"))
    gate = CommandGate(AuditLog(directory / "audit.jsonl"))
    return MigtuiApp(Fleet(inventory.vm, gate), theme="migtui-dark")


def both_up(app: MigtuiApp) -> bool:
    return (cell(app, "vm1", "link") == "up" and cell(app, "vm1-dst", "link") == "up"
            and cell(app, "vm1", "run") == "running" and cell(app, "vm1-dst", "run") == "inmigrate")


async def test_fleet_table_lists_the_lab_vms(lab: Lab, lab_dir: Path) -> None:
    app = await dashboard_on(lab, lab_dir, dirty_mib=16, rate=8)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: both_up(app), 20, "both VMs connected, running and waiting")
        table = _fleet_table(app)
        assert [row.key.value for row in table.ordered_rows] == ["vm1", "vm1-dst"]
        assert cell(app, "vm1", "status") == "-"  # no migration yet


async def test_migration_started_from_the_ui_ends_completed(lab: Lab, lab_dir: Path) -> None:
    app = await dashboard_on(lab, lab_dir, dirty_mib=16, rate=8)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: both_up(app), 20, "both VMs connected, running and waiting")
        _fleet_table(app).select_vm("vm1")
        await pilot.press("m")
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog), 5, "the migrate dialog")
        dialog = app.screen
        await settle(pilot, lambda: not dialog.query_one("#migrate-go", Button).disabled, 20,
                     "the pre-flight checks passing")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: cell(app, "vm1", "status") == "completed", 90, "vm1's row saying completed")
        await settle(pilot, lambda: cell(app, "vm1", "progress") == "100%", 10, "vm1 at 100%")
    audit = [json.loads(line) for line in (lab_dir / "audit.jsonl").read_text().splitlines()]
    assert any(entry.get("command") == "migrate" and entry.get("vm") == "vm1" for entry in audit)


async def test_vm_killed_mid_migration_shows_disconnected(lab: Lab, lab_dir: Path, ctl) -> None:
    # 48 MiB/s of dirtying against 8 MiB/s of bandwidth: active until killed.
    app = await dashboard_on(lab, lab_dir, dirty_mib=64, rate=48)
    async with ctl(lab.vms["vm1"]) as client:
        await client.wait_guest(passes=1, timeout=60)  # dirtying: a guest still booting would converge
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: both_up(app), 20, "both VMs connected, running and waiting")
        fleet = app.fleet
        plan = migration.MigrationPlan(parameters={"max-bandwidth": 8 * MIB, "downtime-limit": 50})
        await migration.start_migration(fleet.session("vm1"), fleet.session("vm1-dst"), plan)
        await settle(pilot, lambda: cell(app, "vm1", "status") == "active", 20, "vm1 migrating")
        app.controls.open_vm("vm1")
        await pilot.pause()
        await lab.kill("vm1")
        await settle(pilot, lambda: cell(app, "vm1", "link") == "down", 30, "vm1 shown down")
        assert app.is_running
        assert not any(isinstance(screen, ErrorScreen) for screen in app.screen_stack)
        assert "vm1" in [row.key.value for row in _fleet_table(app).ordered_rows]  # still listed
        title = str(app.screen.query_one("#vm-title").render())
        assert "link" in title  # the VM screen says the link is down too
        # Its last figures are last seen, not live: dimmed, with the time, no advice, not counted.
        last = app.fleet.states["vm1"].latest
        seen_at = time.strftime("%H:%M:%S", time.localtime(last.wall))
        assert last.status == "active" and f"last seen {seen_at}: active" in title
        prediction = str(app.screen.query_one(PredictionPanel).render())
        assert "no prediction" in prediction and "→" not in prediction
        table = _fleet_table(app)
        assert cell(app, "vm1", "status") == "active" and cell(app, "vm1", "outlook") == seen_at
        assert all(table.get_cell("vm1", key).style.dim for key in ("status", "pass", "progress", "remaining",
                                                                     "dirty", "sent"))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen), 5, "the fleet screen")
        # vm1 is down, and vm1-dst too unless the lab restarted it already.
        assert re.search(r"0 migrating · [12] down", app.screen.sub_title), app.screen.sub_title
        table.select_vm("vm1")
        await pilot.pause()
        brief = str(app.screen.query_one(VMBrief).render())
        assert f"Last seen at {seen_at}: active · pass" in brief and "no prediction" in brief
        assert "→" not in brief


async def test_the_advised_downtime_is_one_key_and_a_confirmation_away_and_completes_it(lab: Lab, lab_dir: Path) -> None:
    from migtui.screens.confirm import ConfirmDialog
    from migtui.widgets.vm_brief import VMBrief
    app = await dashboard_on(lab, lab_dir, dirty_mib=48, rate=100)
    held_when_told: list[object] = []

    def on_message(message: Message) -> None:
        # What the dashboard holds at the moment it says the change is made.
        if isinstance(message, Notify) and str(message.notification.message).startswith("vm1: downtime-limit"):
            held_when_told.append(app.fleet.states["vm1"].parameters.get("downtime-limit"))

    async with app.run_test(size=(120, 40), message_hook=on_message) as pilot:
        await settle(pilot, lambda: both_up(app), 20, "both VMs connected, running and waiting")
        await migration.start_migration(app.fleet.sessions["vm1"], app.fleet.sessions["vm1-dst"],
                                        migration.MigrationPlan({"max-bandwidth": 16 * MIB, "downtime-limit": 100}))
        _fleet_table(app).select_vm("vm1")
        await settle(pilot, lambda: cell(app, "vm1", "progress") == "loop", 40, "the fleet to say it loops")
        brief = app.screen.query_one(VMBrief)
        assert "[D] downtime-limit" in str(brief.render())
        await pilot.press("D")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the confirmation")
        question = app.screen.question
        assert "downtime-limit: 100 ms → " in question
        advised = int(question.split("downtime-limit: 100 ms → ")[1].split()[0])
        await pilot.press("y")
        await settle(pilot, lambda: held_when_told, 20, "the dashboard saying the advice was taken")
        # Read back from QEMU before it says so: no poll later to wait for (settings are read on demand).
        assert held_when_told == [advised]
        await settle(pilot, lambda: app.fleet.states["vm1"].latest.status == "completed", 40,
                     "the migration to complete once the advice was taken")
        assert app.fleet.states["vm1"].parameters["downtime-limit"] == advised
        assert any("advice" in mark.text for mark in app.marks.of("vm1"))


async def test_a_policy_chosen_in_the_migrate_dialog_steers_the_migration_to_its_end(lab: Lab, lab_dir: Path) -> None:
    from textual.widgets import Select, Static
    from migtui.widgets.prediction_panel import PredictionPanel
    app = await dashboard_on(lab, lab_dir, dirty_mib=48, rate=100)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: both_up(app), 20, "both VMs connected, running and waiting")
        await app.fleet.session("vm1").execute("migrate-set-parameters", {"max-bandwidth": 16 * MIB, "downtime-limit": 100})
        app.fleet.refresh("vm1")
        await settle(pilot, lambda: app.fleet.states["vm1"].parameters.get("downtime-limit") == 100, 10,
                     "the new parameters read back")
        _fleet_table(app).select_vm("vm1")
        await pilot.press("m")
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog), 5, "the migrate dialog")
        dialog = app.screen
        policies = dialog.query_one("#migrate-policy", Select)
        assert {"observe", "converge"} <= {value for _, value in policies._options if isinstance(value, str)}
        policies.value = "converge"
        # The dialog measures the guest before anything changes and says what it would take.
        checks = dialog.query_one("#migrate-checks", Static)
        await settle(pilot, lambda: "Outlook: would not converge" in str(checks.render()), 30,
                     "the outlook from the dirty rate")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: "vm1" in app.fleet.policies, 10, "the policy at work")
        app.controls.open_vm("vm1")
        await settle(pilot, lambda: any("policy converge" in str(p.render()) for p in app.screen.query(PredictionPanel)), 20,
                     "the VM screen naming the policy")
        await settle(pilot, lambda: app.fleet.states["vm1"].latest.status == "completed", 60,
                     "the policy to bring it to completion")
        assert any(mark.text.startswith("converge: ") for mark in app.marks.of("vm1"))


async def test_a_change_qemu_refuses_is_told_in_its_words_and_leaves_no_mark(lab: Lab, lab_dir: Path) -> None:
    await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    inventory = load_inventory(lab.write_inventory(lab_dir / "inventory.toml"))
    app = MigtuiApp(Fleet(inventory.vm, CommandGate(AuditLog(lab_dir / "audit.jsonl"))), theme="migtui-dark")
    seen: list[Message] = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        state = app.fleet.states["vm1"]
        await settle(pilot, lambda: state.parameters.get("max-cpu-throttle") == 99, 20, "vm1's parameters read")

        async def throttle(session) -> None:  # under QEMU's cpu-throttle-initial (20): refused
            await session.execute("migrate-set-parameters", {"max-cpu-throttle": 10})

        app.controls.change("vm1", throttle, doing="throttle", done="vm1: throttled")
        notes = lambda: [m.notification for m in seen if isinstance(m, Notify)]  # noqa: E731
        await settle(pilot, lambda: any(n.severity == "error" for n in notes()), 20, "the refusal on screen")
        refusal = next(n for n in notes() if n.severity == "error")
        assert refusal.title == "throttle vm1 failed"
        assert "Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99" \
            in refusal.message
        assert "vm1: throttled" not in [n.message for n in notes()]
        assert app.marks.of("vm1") == [] and state.parameters["max-cpu-throttle"] == 99
