"""Advice ranked by its cost to the guest, bounded by what the path carries: followed on real QEMU.

A guest that rewrites a working set faster than a low bandwidth cap lets QEMU
send it, on a path that carries far more than the cap (loopback): the first
action offered must be more bandwidth, and taking it alone must complete the
migration with a guest stop far shorter than what the downtime-only advice
would have cost.
"""

from __future__ import annotations

import json

import pytest

from migtui.lab.trial import Scenario, run_trial
from migtui.model.convergence import Prediction
from migtui.model.path import PathKind

pytestmark = pytest.mark.qemu

# 8 MiB rewritten at 100 MiB/s behind an 8 MiB/s cap with a 100 ms limit: fitting the set needs about
# 1 s of stop at 8 MiB/s, or about 100 MiB/s of bandwidth, which one host's loopback carries.
CHEAP_BANDWIDTH = Scenario("cheap", dirty_mib=8, dirty_rate_mib_s=100, bandwidth_mib_s=8, downtime_ms=100)


def first_action(prediction: Prediction):
    return prediction.actions[0] if prediction.actions else None


async def test_on_loopback_bandwidth_comes_first_and_taken_alone_stops_the_guest_a_fifth_as_long(lab):
    result = await run_trial(lab, CHEAP_BANDWIDTH, timeout=60, follow=first_action)
    advice = result.advice
    assert advice is not None, [(at, p.summary) for at, p in result.predictions][-5:]
    told = json.loads(json.dumps(advice.to_json()))  # what --json prints
    assert told["path"]["kind"] == PathKind.SAME_HOST.value and "loopback" in told["path"]["source"]
    names = [action["name"] for action in told["actions"]]
    assert names[0] == "max-bandwidth", names
    first, downtime_only = told["actions"][0], next(a for a in told["actions"] if a["name"] == "downtime-limit")
    assert {"kind", "name", "value", "text", "eta_s", "cost"} <= set(first)
    assert first["cost"]["rank"] == 0 and first["cost"]["words"].startswith("none to the guest")
    assert first["value"] > CHEAP_BANDWIDTH.bandwidth_mib_s * 2**20
    # Ranked by cost: no action after another costs the guest less.
    ranks = [(a["cost"]["rank"], a["cost"]["stop_ms"] or 0) for a in told["actions"]]
    assert ranks == sorted(ranks), ranks
    assert result.status == "completed", (result.status, result.followed)
    assert result.downtime_ms is not None and result.downtime_ms < downtime_only["value"] / 5, \
        (result.downtime_ms, downtime_only["value"])
