"""The snapshots screen driven with Pilot against a real QEMU 7.2 with a qcow2 disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from form_pilot import type_into
from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.fleet import FleetScreen
from migtui.screens.snapshot_dialog import SnapshotDialog
from migtui.screens.snapshots import SnapshotsScreen
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.job_panel import JobPanel
from migtui.widgets.schema_form import SchemaForm
from migtui.widgets.vm_brief import VMBrief
from waiting import settle, until_true

pytestmark = pytest.mark.qemu


async def snapshot_app(lab: Lab, directory: Path, read_only: bool = False) -> MigtuiApp:
    await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8, disk=True)
    inventory = load_inventory(lab.write_inventory(directory / "inventory.toml"))
    gate = CommandGate(AuditLog(directory / "audit.jsonl"), read_only=read_only)
    return MigtuiApp(Fleet(inventory.vm, gate), theme="migtui-dark")


def snapshots_screen(app: MigtuiApp) -> SnapshotsScreen:
    return next(screen for screen in app.screen_stack if isinstance(screen, SnapshotsScreen))


def tags(app: MigtuiApp) -> list[str]:
    table = snapshots_screen(app).query_one("#snapshots", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def job_rows(app: MigtuiApp) -> dict[str, tuple[str, str]]:
    panel = snapshots_screen(app).query_one(JobPanel)
    return {row.key.value: (panel.get_cell(row.key, "status").plain, panel.get_cell(row.key, "error").plain)
            for row in panel.ordered_rows}


async def open_snapshots(app: MigtuiApp, pilot: Pilot) -> None:
    await settle(pilot, lambda: app.fleet.states["vm1"].run_state == "running", 20, "vm1 connected and running")
    await pilot.press("down")  # the fleet table's first row: vm1
    await pilot.press("n")
    await settle(pilot, lambda: isinstance(app.screen, SnapshotsScreen), 5, "the snapshots screen")


async def fill_and_start(app: MigtuiApp, pilot: Pilot, tag: str | None) -> None:
    # The dialog is on screen a moment before its form is mounted: wait for the form itself.
    await settle(pilot, lambda: isinstance(app.screen, SnapshotDialog) and bool(app.screen.query(SchemaForm))
                 and app.screen.form.row("tag") is not None, 10, "the snapshot form and its rows")
    if tag is not None:
        await type_into(pilot, app.screen.form.row("tag").editor.query_one(Input), tag)
    await pilot.press("ctrl+s")


async def test_save_load_delete_through_the_screen(lab: Lab, lab_dir: Path, ctl) -> None:
    from textual.notifications import Notify

    app = await snapshot_app(lab, lab_dir)
    told: list[str] = []
    async with app.run_test(size=(120, 40), message_hook=lambda m: told.append(str(m.notification.message))
                            if isinstance(m, Notify) else None) as pilot:
        await open_snapshots(app, pilot)
        # Greyed-out keys say why in one line, and do nothing else.
        for key, why in (("l", "No snapshot selected."), ("k", "No job selected."),
                         ("u", "u resumes a VM a failed load left paused")):
            await pilot.press(key)
            await settle(pilot, lambda w=why: any(w in line for line in told), 5, f"why {key} cannot act")
        assert isinstance(app.screen, SnapshotsScreen)
        await pilot.press("s")
        await fill_and_start(app, pilot, "first")
        await settle(pilot, lambda: tags(app) == ["first"], 60, "the saved snapshot listed")
        await settle(pilot, lambda: any(status == "concluded" for status, _ in job_rows(app).values()), 20,
                     "the job shown concluded")
        # Not dismissed by itself (no auto-dismiss): the admin dismisses it.
        async with ctl(lab["vm1"]) as client:
            assert [job["status"] for job in await client.execute("query-jobs")] == ["concluded"]
        app.screen.query_one(JobPanel).focus()
        await pilot.press("x")
        async with ctl(lab["vm1"]) as client:
            for _ in range(200):
                if await client.execute("query-jobs") == []:
                    break
                await pilot.pause(0.05)
            assert await client.execute("query-jobs") == []

        app.screen.query_one("#snapshots", DataTable).focus()
        await pilot.press("l")
        await fill_and_start(app, pilot, None)  # the selected snapshot's tag is filled in
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 10, "load asks first")
        assert "first" in app.screen.question and "vm1" in app.screen.question
        await pilot.press("y")
        await settle(pilot, lambda: any(v[0] == "concluded" for k, v in job_rows(app).items() if "load" in k), 60,
                     "the load concluded")

        # QEMU reports the save and the load through query-migrate too: not a migration for migtui.
        state = app.fleet.states["vm1"]
        await settle(pilot, lambda: state.latest is not None and state.latest.snapshot, 10,
                     "the snapshot's figures sampled")
        assert state.tracker.migration_count == 0 and not state.migrating_out
        fleet_screen = next(s for s in app.screen_stack if isinstance(s, FleetScreen))
        table = fleet_screen.query_one(FleetTable)
        brief = fleet_screen.query_one(VMBrief)
        brief.vm = "vm1"
        brief.show()  # drawn now, as the fleet screen draws it for the highlighted VM
        for column in ("status", "outlook", "pass", "progress", "downtime"):  # no figure of the job's shown
            assert table.get_cell("vm1", column).plain == "-", column
        assert "No migration" in str(brief.render()) and "completed" not in str(brief.render()), brief.render()

        app.screen.query_one("#snapshots", DataTable).focus()
        await pilot.press("d")
        await fill_and_start(app, pilot, None)
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 10, "delete asks first")
        await pilot.press("y")
        await settle(pilot, lambda: tags(app) == [], 60, "the snapshot gone from the list")
    async with ctl(lab["vm1"]) as client:
        assert (await client.execute("query-status"))["status"] == "running"


async def test_load_offers_only_the_vms_tags_and_a_failed_load_offers_resume_in_the_same_line(
        lab: Lab, lab_dir: Path, ctl) -> None:
    app = await snapshot_app(lab, lab_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_snapshots(app, pilot)
        await pilot.press("s")
        await fill_and_start(app, pilot, "real")
        await settle(pilot, lambda: tags(app) == ["real"], 60, "the saved snapshot listed")
        app.screen.query_one("#snapshots", DataTable).focus()
        await pilot.press("l")
        await fill_and_start(app, pilot, None)
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 10, "load asks first")
        # While the admin reads the question, another client deletes the snapshot: QEMU fails the load.
        async with ctl(lab["vm1"]) as client:
            await client.execute("snapshot-delete", {"job-id": "gone", "tag": "real", "devices": ["disk0"]})

            async def deleted() -> bool:
                await pilot.pause()
                return [job["status"] for job in await client.execute("query-jobs") if job["id"] == "gone"] == ["concluded"]

            await until_true(deleted, 30, "the other client's delete concluded")
            await client.execute("job-dismiss", {"id": "gone"})
        await pilot.press("y")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog) and "paused" in app.screen.question,
                     60, "the offer to resume the paused VM")
        question = app.screen.question
        assert "snapshot-load 'real' failed" in question and "paused (restore-vm)" in question
        await settle(pilot, lambda: any("real" in error for _, error in job_rows(app).values()), 10,
                     "QEMU's reason in the job panel")
        async with ctl(lab["vm1"]) as client:
            assert (await client.execute("query-status"))["status"] == "restore-vm"
            jobs = await client.execute("query-jobs")
            assert [job for job in jobs if job["type"] == "snapshot-load"] == []  # reason read: no job left behind
        await pilot.press("y")
        async with ctl(lab["vm1"]) as client:
            async def running() -> bool:
                await pilot.pause()
                return (await client.execute("query-status"))["status"] == "running"

            await until_true(running, 30, "vm1 running again after the resume")

        # The form offers the tags the VM has, nothing to mistype.
        async with ctl(lab["vm1"]) as client:
            await client.execute("snapshot-save", {"job-id": "j2", "tag": "second", "vmstate": "disk0",
                                                   "devices": ["disk0"]}, timeout=60)
        snapshots_screen(app).action_reload()
        await settle(pilot, lambda: tags(app) == ["second"], 30, "the other client's snapshot listed")
        app.screen.query_one("#snapshots", DataTable).focus()
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, SnapshotDialog) and bool(app.screen.query(SchemaForm))
                     and app.screen.form.row("tag") is not None, 10, "the load form")
        select = app.screen.form.row("tag").editor.query_one(Select)
        assert [value for _, value in select._options] == ["second"]
        assert app.screen.focused is select


async def test_read_only_shows_snapshots_and_offers_no_job(lab: Lab, lab_dir: Path, ctl) -> None:
    async with ctl(await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8, disk=True)) as client:
        await client.execute("snapshot-save", {"job-id": "j", "tag": "outside", "vmstate": "disk0",
                                               "devices": ["disk0"]}, timeout=60)
        await client.execute("job-dismiss", {"id": "j"})
    inventory = load_inventory(lab.write_inventory(lab_dir / "inventory.toml"))
    app = MigtuiApp(Fleet(inventory.vm, CommandGate(AuditLog(lab_dir / "audit.jsonl"), read_only=True)))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_snapshots(app, pilot)
        await settle(pilot, lambda: tags(app) == ["outside"], 30, "the existing snapshot listed")
        screen = snapshots_screen(app)
        assert all(screen.check_action(action, ()) is False for action in ("save", "load", "delete"))
        footer_actions = {active.binding.action for active in app.active_bindings.values()}
        assert not footer_actions & {"save", "load", "delete", "dismiss_job", "cancel_job", "resume"}
    assert AuditLog(lab_dir / "audit.jsonl").entries() == []


async def test_save_during_a_migration_says_why_not_and_asks_nothing(lab: Lab, lab_dir: Path, ctl) -> None:
    from textual.notifications import Notify

    app = await snapshot_app(lab, lab_dir)
    told: list[str] = []
    async with app.run_test(size=(120, 40), message_hook=lambda m: told.append(str(m.notification.message))
                            if isinstance(m, Notify) else None) as pilot:
        async with ctl(lab["vm1"]) as client:  # a slow migration to nowhere, as another tool may start
            await client.execute("migrate-set-parameters", {"max-bandwidth": 1 << 20})
            await client.execute("migrate", {"uri": "exec:cat > /dev/null"})
            await settle(pilot, lambda: (app.fleet.states["vm1"].latest or None) is not None
                         and app.fleet.states["vm1"].latest.active, 20, "vm1's migration seen")
            await open_snapshots(app, pilot)
            await pilot.press("s")
            await settle(pilot, lambda: any("QEMU takes no snapshot job during one" in line for line in told), 5,
                         "why s cannot save now")
            assert isinstance(app.screen, SnapshotsScreen), "no form opened"
            await client.execute("migrate_cancel")
