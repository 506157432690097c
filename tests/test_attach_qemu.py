"""Steady from the first second: migtui attached to a real migration already running, at several moments.

The migration is started by the lab's own client, as another tool would;
migtui's fleet attaches to it twice, one after the other, for 10 s each
(so at different points of its passes). Until it has seen whole passes it says "measuring
(attached during pass N)"; no action it offers in those 10 s may differ by
more than 25 % from the one it settles on.
"""

from __future__ import annotations

import time

import pytest

from migtui.inventory import VMEntry
from migtui.model.convergence import Verdict
from migtui.qmp.fleet import Fleet
from waiting import until, until_true

pytestmark = pytest.mark.qemu

WATCH_S = 10.0
ATTACHES = 2


async def test_no_action_in_the_first_10_s_after_attaching_is_a_quarter_off_the_settled_one(lab, ctl):
    # A working set rewritten faster than the cap sends it: passes of about 1.5 s, never converging.
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=24, dirty_rate_mib_s=40)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as source, ctl(dst) as destination:
        await source.wait_guest(passes=1, timeout=60)
        await destination.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
        port = (await destination.execute("query-migrate"))["socket-address"][0]["port"]
        await source.execute("migrate-set-parameters", {"max-bandwidth": 16 << 20, "downtime-limit": 300})
        await source.execute("migrate", {"uri": f"tcp:127.0.0.1:{port}"})
        try:
            async def past_its_first_passes() -> bool:
                return (await source.execute("query-migrate")).get("ram", {}).get("dirty-sync-count", 0) >= 3

            await until_true(past_its_first_passes, 60, "the migration to be under way")
            offered: list[list[dict[str, object]]] = []
            attached_during: list[int | None] = []
            for _ in range(ATTACHES):
                seen: list[dict[str, object]] = []
                async with Fleet([VMEntry(name="vm1", qmp=str(src.qmp_path))], fast=0.2) as fleet:
                    state = fleet.states["vm1"]
                    await until(lambda: state.latest is not None, 15, "the first sample")
                    attached_during.append(state.tracker.passes.attached_during)
                    first = state.prediction()
                    assert first.verdict is Verdict.MEASURING and "attached during pass" in first.summary, \
                        first.summary
                    deadline = time.monotonic() + WATCH_S
                    while time.monotonic() < deadline:
                        last = state.latest
                        await until(lambda: state.latest is not last, 5, "the next sample")
                        seen.append({a.name: a.value for a in state.prediction().actions})
                offered.append(seen)
            assert all(passes is not None for passes in attached_during), attached_during
            settled = next(values for values in reversed(offered[-1]) if values)
            for seen in offered:
                assert any(seen), "no advice within 10 s of attaching"
                for values in seen:
                    for name, value in values.items():
                        assert name in settled, (name, settled)
                        assert abs(value - settled[name]) <= 0.25 * settled[name], (name, value, settled)
        finally:
            await source.execute("migrate_cancel")
