"""A postcopy whose lab link goes down: shown stalled, alerted on, and clear again once the link is back.

vm1 migrates from hv1 to vm1-dst on hv2 over the lab's link and is switched
to postcopy; then hv2's port on the lab's bridge is taken down (``ip link set
port2 down`` in the admin namespace, as the lab's other link tests do). TCP
only retransmits: both QEMUs stay ``postcopy-active`` with no error, while
the guest on hv2 stops at its first page still on hv1. migtui (its engine, in
this process, reaching both hosts over SSH as the dashboard does) must show
the postcopy stalled within a deadline, naming the way out, and fire the
inventory's ``no-progress`` alert; with the link up again the stream moves,
the warning goes, and the migration completes with the guest's counters going
on.
"""

from __future__ import annotations

import time
from functools import partial

import pytest

from migtui.alerts.engine import AlertEngine
from migtui.alerts.rule import AlertRule, Condition
from migtui.inventory import load_inventory
from migtui.lab.hosts import HostLab, LabHost
from migtui.model.convergence import Verdict
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.migration import MigrationPlan, start_migration, start_postcopy
from migtui.qmp.updates import AlertRaised, SampleTaken, Update
from migtui.widgets.outlook import outlook_of
from postcopy_split import POSTCOPY_PARAMETERS, SplitLab, first_pass_over, wait_status
from postcopy_split import split_lab  # noqa: F401 - the module's fixture
from waiting import until, until_true

pytestmark = pytest.mark.qemu


async def set_link(lab: HostLab, host: LabHost, up: bool) -> None:
    """``host``'s port on the lab's bridge up or down (its veth's far end, in the admin namespace)."""
    assert lab.admin is not None
    await lab.admin.run("ip", "link", "set", f"port{host.name.removeprefix('hv')}", "up" if up else "down")


async def test_a_postcopy_whose_link_goes_down_is_shown_stalled_alerted_and_clear_once_the_link_is_back(
        split_lab: SplitLab, ctl) -> None:
    lab, hv2 = split_lab.lab, split_lab.destination_host
    inventory = load_inventory(lab.directory / "inventory.toml")
    fleet = Fleet(inventory.vm, CommandGate(AuditLog(lab.directory / "audit.jsonl")), hosts=inventory.host, fast=0.3)
    alerts: list[AlertRaised] = []

    up_at: float | None = None
    verdicts: list[Verdict] = []
    """vm1's verdict at each of its samples, once the link is back."""

    def hear(update: Update) -> None:
        if isinstance(update, AlertRaised):
            alerts.append(update)
        elif isinstance(update, SampleTaken) and update.vm == "vm1" and up_at is not None:
            verdicts.append(fleet.states["vm1"].prediction().verdict)

    failed_hooks: list[str] = []
    rules = [AlertRule(when=Condition.NO_PROGRESS, after=1.0)]
    async with ctl(split_lab.source) as source, ctl(split_lab.destination) as destination:
        await source.wait_guest(passes=1, timeout=60)
        async with fleet, AlertEngine(fleet, rules, log=failed_hooks.append):
            fleet.subscribe(hear)
            await fleet.wait_connected(30)
            state = fleet.states["vm1"]
            plan = MigrationPlan(dict(POSTCOPY_PARAMETERS), {"postcopy-ram": True})
            uri = await fleet.change("vm1", partial(start_migration, target=fleet.session("vm1-dst"), plan=plan),
                                     also=["vm1-dst"])
            assert uri.startswith(f"tcp:{hv2.address}:"), uri  # the stream crosses the lab's link
            await first_pass_over(source)
            await fleet.change("vm1", start_postcopy, also=["vm1-dst"])
            await wait_status(destination, "postcopy-active", 30, "postcopy on the destination")
            await destination.wait_guest(ticks=await destination.guest_ticks() + 5, timeout=30)  # it runs on hv2
            await until(lambda: state.latest is not None and state.latest.status == "postcopy-active"
                        and state.prediction().verdict is Verdict.POSTCOPY, 30, "migtui to see the postcopy moving")
            try:
                await set_link(lab, hv2, up=False)
                down_at = time.monotonic()
                # The socket's buffer fills, then nothing more is sent: 5 s of that is the verdict.
                await until(lambda: state.prediction().verdict is Verdict.POSTCOPY_STALLED, 60,
                            "vm1's postcopy to be shown stalled")
                shown_in = time.monotonic() - down_at
                prediction = state.prediction()
                assert prediction.summary.startswith("EMERGENCY: postcopy stalled: nothing sent for "), prediction
                assert "the guest on the destination waits for its memory" in prediction.summary
                assert any("migtui pause VM" in reason and "migtui recover VM" in reason
                           for reason in prediction.reasons), prediction.reasons
                assert outlook_of(prediction).short == "STALLED!"
                assert state.latest is not None and state.latest.status == "postcopy-active"  # QEMU sees no error
                await until(lambda: [a.vm for a in alerts] == ["vm1"], 20, "the no-progress alert on vm1")
                assert alerts[0].when == "no-progress" and "postcopy stalled" in alerts[0].summary, alerts[0]
                ticks = await destination.guest_ticks()  # a page it has: the monitor answers, the vCPU waits

                async def frozen_a_while() -> bool:  # the verdict holds while the link is down: it is no blip
                    return state.tracker.frozen_for() >= 12

                await until_true(frozen_a_while, 60, "the stream to stand still for 12 s")
                assert state.prediction().verdict is Verdict.POSTCOPY_STALLED
                frozen_ticks = await destination.guest_ticks() - ticks
            finally:
                await set_link(lab, hv2, up=True)
            up_at = time.monotonic()
            await until(lambda: state.prediction().verdict is not Verdict.POSTCOPY_STALLED, 90,
                        "the stall to clear once the link is back")
            cleared_in = time.monotonic() - up_at
            assert state.prediction().verdict in (Verdict.POSTCOPY, Verdict.FINISHED), state.prediction()
            # The rest of the memory at full speed: the test waits for the end, not for the cap.
            await source.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})
            await wait_status(destination, "completed", 120, "the postcopy to complete on hv2")
            await until(lambda: state.latest is not None and state.latest.status == "completed", 30,
                        "migtui to see the source completed")
            assert (await destination.execute("query-status"))["status"] == "running"
            await destination.wait_guest(ticks=ticks + 20, timeout=60)  # its counters go on from where they stood
            # Once moving again, never stalled again up to the end (its last moments included); one alert.
            moving = next(i for i, verdict in enumerate(verdicts) if verdict is not Verdict.POSTCOPY_STALLED)
            assert Verdict.POSTCOPY_STALLED not in verdicts[moving:], verdicts
            assert len(alerts) == 1
    assert failed_hooks == []
    print(f"postcopy stall shown {shown_in:.1f} s after the link went down, cleared {cleared_in:.1f} s after it "
          f"came back; the guest's ticks moved {frozen_ticks} while it was shown stalled")
