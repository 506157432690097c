"""The dashboard's R through a real recovery: a postcopy between two lab hosts, split by a fault on the link.

vm1 migrates from hv1 to vm1-dst on hv2 (the dashboard reaches both over
SSH), is switched to postcopy with p, and its stream is killed inside hv1
(``ss -K``, tests/postcopy_split.py). The fleet table shows the emergency on
both rows; R asks, naming both VMs; yes recovers it for real, and the table
ends with vm1-dst running on hv2, the guest's counter going on.
"""

from __future__ import annotations

import re
import time
from functools import partial

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Static

from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.fleet import FleetScreen
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.vm_brief import VMBrief
from postcopy_split import POSTCOPY_PARAMETERS, SplitLab, first_pass_over, kill_stream
from postcopy_split import split_lab  # noqa: F401 - the module's fixture
from waiting import settle

pytestmark = pytest.mark.qemu


def cell(app: MigtuiApp, vm: str, column: str) -> str:
    fleet_screen = next(s for s in app.screen_stack if isinstance(s, FleetScreen))
    return fleet_screen.query_one(FleetTable).get_cell(vm, column).plain


def told(seen: list[Message]) -> list[str]:
    return [str(m.notification.message) for m in seen if isinstance(m, Notify)]


async def answer_yes(pilot, what: str) -> str:
    """Wait for the question, read it as shown, answer y; return its text."""
    await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), 10, what)
    dialog = pilot.app.screen
    text = " ".join(str(widget.render()) for widget in dialog.query(Static))
    await pilot.press("y")
    await settle(pilot, lambda: not isinstance(pilot.app.screen, ConfirmDialog), 10, f"{what} to go")
    return re.sub(r"\s+", " ", text)


async def test_a_postcopy_split_on_the_link_is_the_fleets_emergency_and_r_recovers_it(split_lab: SplitLab,
                                                                                       ctl) -> None:
    lab, hv1, hv2 = split_lab.lab, split_lab.source_host, split_lab.destination_host
    inventory = load_inventory(lab.directory / "inventory.toml")
    fleet = Fleet(inventory.vm, CommandGate(AuditLog(lab.directory / "audit.jsonl")), hosts=inventory.host, fast=0.2)
    app = MigtuiApp(fleet, theme="migtui-dark")
    seen: list[Message] = []
    async with ctl(split_lab.source) as source, ctl(split_lab.destination) as destination:
        await source.wait_guest(passes=1, timeout=60)
        async with app.run_test(size=(140, 40), message_hook=seen.append) as pilot:
            await settle(pilot, lambda: cell(app, "vm1", "run") == "running" and cell(app, "vm1-dst", "run")
                         == "inmigrate", 30, "both VMs up over SSH, running and waiting")
            plan = MigrationPlan(dict(POSTCOPY_PARAMETERS), {"postcopy-ram": True})
            uri = await fleet.change("vm1", partial(start_migration, target=fleet.session("vm1-dst"), plan=plan),
                                     also=["vm1-dst"])
            assert uri.startswith(f"tcp:{hv2.address}:"), uri
            await first_pass_over(source)
            app.screen.query_one(FleetTable).select_vm("vm1")
            await pilot.pause()
            await pilot.press("p")
            await answer_yes(pilot, "the postcopy question")
            await settle(pilot, lambda: cell(app, "vm1-dst", "status") == "postcopy", 30, "vm1-dst in postcopy")
            await destination.wait_guest(ticks=await destination.guest_ticks() + 5, timeout=30)  # it runs on hv2
            ticks_before, passes_before = await destination.guest_ticks(), await destination.guest_passes()

            await kill_stream(hv1, hv2, uri.rsplit(":", 1)[1])
            await settle(pilot, lambda: cell(app, "vm1", "status") == cell(app, "vm1-dst", "status") == "pc-paused",
                         30, "both rows to show the postcopy paused")
            await settle(pilot, lambda: cell(app, "vm1", "outlook") == "SPLIT!", 10, "vm1's outlook to say SPLIT!")
            brief = app.screen.query_one(VMBrief)  # under the table, for the highlighted vm1
            await settle(pilot, lambda: "EMERGENCY: postcopy paused, the guest is split between two hosts"
                         in str(brief.render()), 10, "the brief to tell the emergency")

            await pilot.press("R")
            asked = time.monotonic()
            question = await answer_yes(pilot, "the recovery question")
            assert question.startswith("Recover the postcopy of vm1 ") and "from vm1 to vm1-dst is paused" in question
            await settle(pilot, lambda: any(line.startswith("vm1: postcopy resumed to vm1-dst") for line in told(seen)),
                         60, "the dashboard to say the postcopy resumed")
            resumed_in = time.monotonic() - asked
            outcome = next(line for line in told(seen) if line.startswith("vm1: postcopy resumed"))
            assert re.fullmatch(rf"vm1: postcopy resumed to vm1-dst \(tcp:{re.escape(hv2.address)}:\d+\)", outcome), \
                outcome  # hv2's address on the link, where hv1 reaches it: not loopback
            await settle(pilot, lambda: cell(app, "vm1", "status") == cell(app, "vm1-dst", "status") == "postcopy",
                         30, "both rows to show the postcopy running again")
            # Let the rest of the memory come at full speed: the test waits for the end, not for the cap.
            await source.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})
            await settle(pilot, lambda: cell(app, "vm1-dst", "status") == "completed"
                         and cell(app, "vm1-dst", "run") == "running", 120, "vm1-dst completed and running on hv2")
            completed_in = time.monotonic() - asked
            await settle(pilot, lambda: cell(app, "vm1", "status") == "completed"
                         and cell(app, "vm1", "outlook") == "completed", 30, "vm1's row to say completed")
            assert "EMERGENCY" not in str(brief.render())
        # Memory intact: the guest's counters go on from where they were, on hv2.
        await destination.wait_guest(ticks=ticks_before + 20, passes=passes_before + 1, timeout=60)
    print(f"recovered from the dashboard: resumed {resumed_in:.1f} s after R, completed {completed_in:.1f} s after")
