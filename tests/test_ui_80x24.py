"""Every screen and dialog usable at 80x24 with real QEMU: what must be read is on screen whole, what
must be pressed can be reached."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from form_pilot import type_into
from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.migrate import MigrateDialog
from migtui.screens.snapshot_dialog import SnapshotDialog
from migtui.screens.snapshots import SnapshotsScreen
from migtui.widgets.job_panel import JobPanel
from migtui.widgets.schema_form import SchemaForm
from screen_text import screen_text
from waiting import settle

pytestmark = pytest.mark.qemu


def in_view(app: MigtuiApp, widget: Widget) -> bool:
    """Whether the widget is on screen, where a click on its middle lands on it."""
    region = widget.region
    if region.height == 0 or region.bottom > app.size.height:
        return False
    found, _ = app.screen.get_widget_at(*region.center)
    return found is widget or widget in found.ancestors_with_self


async def fleet_app(lab: Lab, directory: Path, destinations: int, disk: bool = False) -> MigtuiApp:
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=32, disk=disk)
    for number in range(destinations):
        await lab.start_destination(f"vm1-dst{number + 1}", like=source)
    inventory = load_inventory(lab.write_inventory(directory / "inventory.toml"))
    return MigtuiApp(Fleet(inventory.vm, CommandGate(AuditLog(directory / "audit.jsonl"))), theme="migtui-dark")


async def test_the_migrate_dialog_keeps_its_buttons_in_view_with_destinations_and_an_outlook(lab, lab_dir):
    app = await fleet_app(lab, lab_dir, destinations=3)
    async with app.run_test(size=(80, 24)) as pilot:
        states = app.fleet.states
        await settle(pilot, lambda: states["vm1"].run_state == "running" and all(
            states[f"vm1-dst{n}"].run_state == "inmigrate" for n in (1, 2, 3)), 30, "the VMs connected")
        app.controls.migrate("vm1")
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog) and bool(app.screen.query("#migrate-checks")),
                     5, "the migrate dialog")
        dialog = app.screen
        checks = dialog.query_one("#migrate-checks", Static)
        await settle(pilot, lambda: "Outlook" in str(checks.render()) and not dialog.query_one("#migrate-go").disabled,
                     60, "the checks passed and the outlook measured")
        for button in dialog.query(Button):
            assert in_view(app, button), button.id
        await pilot.press("ctrl+s")
        # Started: its status left "none" (on a loaded machine it may even have completed between two polls).
        await settle(pilot, lambda: states["vm1"].latest is not None and states["vm1"].latest.status != "none", 30,
                     "the migration started from 80x24")


async def test_the_snapshots_screen_shows_its_jobs_whole_at_80x24(lab, lab_dir):
    app = await fleet_app(lab, lab_dir, destinations=0, disk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.fleet.states["vm1"].run_state == "running", 20, "vm1 connected")
        app.controls.open_snapshots("vm1")
        await settle(pilot, lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.listed, 30,
                     "the snapshots screen")
        for tag in ("first", "second"):
            await pilot.press("s")
            await settle(pilot, lambda: isinstance(app.screen, SnapshotDialog) and bool(app.screen.query(SchemaForm))
                         and app.screen.form.row("tag") is not None, 10, "the save form")
            # Its buttons once the form's rows are laid out (on a loaded machine, a refresh or two later).
            await settle(pilot, lambda: all(in_view(app, button) for button in app.screen.query(Button)), 10,
                         "the save form's buttons in view")
            await type_into(pilot, app.screen.form.row("tag").editor.query_one(Input), tag)
            await pilot.press("ctrl+s")
            await settle(pilot, lambda: isinstance(app.screen, SnapshotsScreen), 10, "back on the screen")
            await settle(pilot, lambda: sum("concluded" in line for line in screen_text(app).splitlines())
                         == ["first", "second"].index(tag) + 1, 60, f"the {tag} job concluded")
        panel = app.screen.query_one(JobPanel)
        assert panel.region.height >= 3  # the header and both jobs
        shown = screen_text(app).splitlines()
        jobs = [line for line in shown if "save-" in line]
        assert len(jobs) == 2
        for line in jobs:  # every column whole: the phases end the line
            assert re.search(r"save-(first|second)-\d{6} ", line), line  # the job id whole
            assert " save " in line and "concluded" in line and "new " in line and " · run " in line, line
        header = next(line for line in shown if line.split()[:2] == ["job", "type"])
        assert header.rstrip().endswith("seconds per phase")
        listed = next(line for line in shown if line.split()[:2] == ["node", "tag"])
        assert listed.rstrip().endswith("VM clock")  # the snapshots' columns whole too
        # Every key of the screen in its footer (redrawn whole when a job's change greys keys: waited for).
        await settle(pilot, lambda: "u Resume" in screen_text(app).splitlines()[-1], 10, "the footer drawn")
        assert screen_text(app).splitlines()[-1].rstrip().endswith("? Help q Quit")
