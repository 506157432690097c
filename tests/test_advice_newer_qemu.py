"""Advice on the second QEMU release the tests unpack (10.0), followed on real migrations.

QEMU 8.2 added ``avail-switchover-bandwidth``: the bandwidth QEMU assumes when
deciding to switch over, where the one it measures is too low. migtui
advises it only where the VM's QEMU has it; here it is advised on a 10.0
VM and followed, and the cheapest advice is followed on a migration from
Debian's 7.2 to 10.0 (a machine type both know).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migtui.lab.trial import Scenario, run_trial

pytestmark = pytest.mark.qemu

NEWER_QEMU = Path(os.environ.get("MIGTUI_QEMU_CACHE", "/var/cache/migtui/qemu-backport")) / "current" / \
    "qemu-system-x86_64"
BOTH_KNOW = "pc-i440fx-7.2"


@pytest.fixture
def newer_qemu() -> str:
    assert NEWER_QEMU.exists(), f"no second QEMU release at {NEWER_QEMU}: run scripts/ensure-qemu-backport"
    return str(NEWER_QEMU)


async def test_avail_switchover_bandwidth_is_advised_on_qemu_10_and_followed_alone_completes(lab, newer_qemu):
    scenario = Scenario("asb", dirty_mib=24, dirty_rate_mib_s=100, bandwidth_mib_s=16, downtime_ms=100,
                        qemu=newer_qemu, machine=BOTH_KNOW)
    result = await run_trial(lab, scenario, timeout=60, follow="avail-switchover-bandwidth")
    assert result.advice is not None, [(at, p.summary) for at, p in result.predictions][-5:]
    followed = result.followed
    assert followed is not None and followed.name == "avail-switchover-bandwidth"
    assert followed.cost is not None and "stop" in followed.cost.words
    assert result.status == "completed", result.status
    took = result.took_after_following
    assert took is not None and followed.eta_s is not None and took <= 2 * followed.eta_s, (took, followed.eta_s)
    (promise,) = result.promises
    assert promise.status == "completed" and promise.downtime_ms == result.downtime_ms


async def test_the_cheapest_advice_completes_a_migration_from_7_2_to_10_0(lab, newer_qemu):
    scenario = Scenario("up", dirty_mib=8, dirty_rate_mib_s=100, bandwidth_mib_s=8, downtime_ms=100,
                        dst_qemu=newer_qemu, machine=BOTH_KNOW)
    result = await run_trial(lab, scenario, timeout=60, follow=lambda p: p.actions[0] if p.actions else None)
    assert result.followed is not None and result.followed.name == "max-bandwidth", result.followed
    assert "avail-switchover-bandwidth" not in [a.name for a in result.advice.actions]  # the source is 7.2
    assert result.status == "completed"
    downtime_only = next(a for a in result.advice.actions if a.name == "downtime-limit")
    assert result.downtime_ms is not None and result.downtime_ms < downtime_only.value / 5


async def test_zero_page_detection_set_through_migtui_on_qemu_10_takes_effect(lab, ctl, tmp_path, newer_qemu):
    from cli_process import run_cli

    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=1, qemu=newer_qemu,
                                 machine=BOTH_KNOW)
    await lab.start_destination("vm1-dst", like=src, qemu=newer_qemu)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    code, _, err = await run_cli("migrate", "vm1", "vm1-dst", "--config", str(inventory),
                                 "--set", "zero-page-detection=none", "--wait", timeout=90)
    assert code == 0, err
    async with ctl(src) as client:
        ram = (await client.execute("query-migrate"))["ram"]
    # The guest wrote 4 MiB of its 64: without zero-page detection every page went over whole.
    assert ram["transferred"] >= 60 * 2**20 and ram["duplicate"] == 0, ram
