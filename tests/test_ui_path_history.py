"""The VM screen on a real migration: what recorded migrations between the same hosts reached, and
whether the advised bandwidth, taken with B, was enough.

A lab migration is recorded first (:mod:`recorded_route`); the dashboard,
told that recording as its inventory's ``history``, then watches a guest
that will not converge behind a low cap. Its panel says what the path
carried before; B and a confirmation raise max-bandwidth, and the panel
says it was enough.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.lab.control import ControlClient
from migtui.lab.trial import MiB
from migtui.qmp import migration
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.confirm import ConfirmDialog
from migtui.units import human_rate
from migtui.widgets.prediction_panel import PredictionPanel
from recorded_route import LOOPBACK_ROUTE, record_a_migration
from waiting import settle

pytestmark = pytest.mark.qemu


def panel(app: MigtuiApp) -> str:
    return " ".join(str(p.render()) for p in app.screen.query(PredictionPanel))


async def test_the_vm_screen_says_what_the_path_carried_before_and_whether_the_bandwidth_was_enough(
        lab: Lab, lab_dir: Path) -> None:
    db = lab_dir / "fleet.db"
    seen = await record_a_migration(lab, db)
    # 8 MiB rewritten at 100 MiB/s behind an 8 MiB/s cap, 100 ms: bandwidth is the cheap fix on loopback.
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=100)
    await lab.start_destination("vm1-dst", like=source)
    async with await ControlClient.connect(source.ctl_path) as client:
        await client.wait_guest(passes=1, timeout=60)
    inventory = load_inventory(lab.write_inventory(lab_dir / "inventory.toml"))
    app = MigtuiApp(Fleet([inventory.get("vm1"), inventory.get("vm1-dst")],
                          CommandGate(AuditLog(lab_dir / "audit.jsonl")), history=db), theme="migtui-dark")
    told = f"migrations from {LOOPBACK_ROUTE[0]} to {LOOPBACK_ROUTE[1]} reached {human_rate(seen)} before"
    async with app.run_test(size=(160, 50)) as pilot:
        state = app.fleet.states["vm1"]
        await settle(pilot, lambda: app.fleet.states["vm1-dst"].run_state == "inmigrate", 20, "both VMs up")
        await app.fleet.change("vm1", lambda session: migration.start_migration(
            session, app.fleet.sessions["vm1-dst"],
            migration.MigrationPlan({"max-bandwidth": 8 * MiB, "downtime-limit": 100})), also=["vm1-dst"])
        app.controls.open_vm("vm1")
        await settle(pilot, lambda: told in panel(app), 60, "the panel saying what the path carried before")
        await settle(pilot, lambda: state.latest.passes >= 3 and any(
            a.name == "max-bandwidth" for a in state.prediction().actions), 60, "the bandwidth advice")
        await pilot.press("B")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the confirmation")
        assert "max-bandwidth: " in app.screen.question
        await pilot.press("y")
        await settle(pilot, lambda: state.latest.status == "completed", 60, "the migration to complete")
        await settle(pilot, lambda: ": enough (the migration completed " in panel(app), 10,
                     "the panel saying the bandwidth was enough")
        # Under "last migration", with the passes QEMU needed after it (the switchover's sync is no pass).
        assert re.search(r"· max-bandwidth [\d.]+ MiB/s: enough \(the migration completed \d+ pass(es)? after it\)",
                         panel(app)), panel(app)
