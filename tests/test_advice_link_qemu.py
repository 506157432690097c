"""Advice bounded by a real link: two lab hosts whose link a ``tc`` shaper limits, migrations over SSH.

The path probe reads the source host's interface toward the destination
(``ip route get``, its speed, its ``tc`` shaper) over the host's SSH
connection. Where the link carries several times the bandwidth cap, more
bandwidth is the first advice and, taken alone, stops the guest far shorter
than the downtime-only advice; where the link is full at the migration's own
rate, bandwidth is not offered and the downtime advice works.
"""

from __future__ import annotations

import shutil
from functools import partial

import pytest

from hosts_lab import short_dir
from migtui.inventory import load_inventory
from migtui.lab.hosts import HostLab
from migtui.lab.trial import MiB, Scenario
from migtui.model.advice import Action
from migtui.model.convergence import Prediction, Verdict
from migtui.model.path import PathKind
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import start_migration
from migtui.qmp.steering import take
from waiting import until

pytestmark = pytest.mark.qemu


async def follow_over_the_link(link_rate: str, scenario: Scenario, choose) -> tuple[Prediction, Action, dict]:
    """Migrate vm1 (hv1) to vm1-dst (hv2) over a shaped link, take the chosen advice, wait for the end."""
    directory = short_dir("link")
    try:
        async with HostLab(directory, link_rate=link_rate) as lab:
            hv1, hv2 = await lab.start_hosts(2)
            src = await hv1.lab.start_source("vm1", mem_mib=scenario.mem_mib, dirty_mib=scenario.dirty_mib,
                                             dirty_rate_mib_s=scenario.dirty_rate_mib_s)
            await hv2.lab.start_destination("vm1-dst", like=src)
            inventory = load_inventory(lab.write_inventory(directory / "inventory.toml"))
            async with Fleet(inventory.vm, hosts=inventory.host, fast=0.2) as fleet:
                await fleet.wait_connected(30)
                state = fleet.states["vm1"]
                await fleet.change("vm1", partial(start_migration, target=fleet.session("vm1-dst"),
                                                  plan=scenario.plan), also=["vm1-dst"])

                def advised() -> bool:
                    prediction = state.prediction()
                    return (prediction.verdict is Verdict.NOT_CONVERGING and bool(prediction.actions)
                            and prediction.path is not None and state.latest is not None
                            and state.latest.passes >= 3)

                await until(advised, 90, "advice with the path known")
                advice = state.prediction()
                action = choose(advice)
                state.follow(action)
                await fleet.change("vm1", partial(take, action=action))
                await until(lambda: state.latest.status in ("completed", "failed", "cancelled"), 90,
                            "the migration to end after the advice")
                await until(lambda: state.prediction().verdict is Verdict.FINISHED, 10, "the outcome")
                if state.latest.status == "completed":  # QEMU's first "completed" answer may say downtime 0
                    await until(lambda: state.latest.info.downtime, 15, "QEMU's downtime figure")
                (promise,) = state.promises()
                return advice, action, promise.to_json()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def test_a_link_several_times_the_cap_gets_bandwidth_first_and_it_stops_the_guest_a_fifth_as_long():
    # 4 MiB rewritten fast behind an 8 MiB/s cap, a 100 ms limit: about 52 MiB/s fits it; the link takes 100 MB/s.
    scenario = Scenario("wide", dirty_mib=4, dirty_rate_mib_s=100, bandwidth_mib_s=8, downtime_ms=100)
    advice, action, promise = await follow_over_the_link("800mbit", scenario, lambda p: p.actions[0])
    assert advice.path.kind is PathKind.INTERFACE and "tc" in advice.path.source, advice.path
    assert action.name == "max-bandwidth" and action.cost.rank == 0, advice.actions
    downtime_only = next(a for a in advice.actions if a.name == "downtime-limit")
    outcome = promise["outcome"]
    assert outcome["status"] == "completed", promise
    assert outcome["downtime_ms"] < downtime_only.value / 5, (outcome, downtime_only.value)


async def test_a_link_full_at_the_migrations_rate_gets_no_bandwidth_advice_and_the_downtime_advice_works():
    # The link (64 Mbit/s, 7.6 MiB/s) is what the 8 MiB/s cap lets through already: more bandwidth cannot help.
    scenario = Scenario("full", dirty_mib=4, dirty_rate_mib_s=100, bandwidth_mib_s=8, downtime_ms=100)
    advice, action, promise = await follow_over_the_link(
        "64mbit", scenario, lambda p: next(a for a in p.actions if a.name == "downtime-limit"))
    assert advice.path.bandwidth < 8 * MiB, advice.path
    assert not [a for a in advice.actions if "bandwidth" in a.name], advice.actions
    assert any("the path is full" in reason for reason in advice.reasons), advice.reasons
    assert promise["outcome"]["status"] == "completed", promise
