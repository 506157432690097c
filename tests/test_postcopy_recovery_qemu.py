"""A postcopy whose stream breaks, shown as the emergency it is and recovered through migtui, on real QEMU.

The migration stream is killed from outside (``ss -K``, as a failing network
would cut it): both QEMUs go ``postcopy-paused``, the guest split between
them. migtui must say so on both sides, and ``migtui recover`` must bring the
migration to completion with the guest running on the destination, its
memory intact: the lab guest's counter goes on from where it was.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from cli_process import run_cli
from migtui.inventory import VMEntry
from migtui.model.convergence import Verdict
from migtui.model.status import MigrationStatus
from migtui.ops import recover
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, start_migration, start_postcopy
from migtui.qmp.session import VMSession
from waiting import until, until_true

pytestmark = pytest.mark.qemu

PAUSED = MigrationStatus.POSTCOPY_PAUSED


async def kill_stream(port: str) -> None:
    """Cut the migration's TCP connection as a failing link would (both ends get a reset)."""
    process = await asyncio.create_subprocess_exec("ss", "-K", "-t", f"( dport = :{port} or sport = :{port} )",
                                                   stdout=asyncio.subprocess.DEVNULL)
    assert await process.wait() == 0


async def test_a_postcopy_cut_by_the_network_is_shown_split_and_migtui_recover_completes_it(lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=48, dirty_rate_mib_s=4)
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    audit = tmp_path / "audit.jsonl"
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)
    # Slow enough that the postcopy is still running when the stream is cut, whatever the machine's load.
    plan = MigrationPlan({"max-bandwidth": 8 << 20, "max-postcopy-bandwidth": 2 << 20}, {"postcopy-ram": True})
    fleet = Fleet([VMEntry(name=vm.name, qmp=str(vm.qmp_path)) for vm in (src, dst)], fast=0.2)
    async with fleet:
        await fleet.wait_connected(15)
        source, destination = fleet.states["vm1"], fleet.states["vm1-dst"]

        async def start(session: VMSession) -> str:
            return await start_migration(session, fleet.session("vm1-dst"), plan)

        uri = await fleet.change("vm1", start, also=["vm1-dst"])
        await until(lambda: source.latest is not None and source.latest.passes >= 1, 30, "the first pass")
        await fleet.change("vm1", start_postcopy, also=["vm1-dst"])
        await until(lambda: destination.latest is not None
                    and destination.latest.status == MigrationStatus.POSTCOPY_ACTIVE, 30, "postcopy on the destination")
        async with ctl(dst) as client:
            await client.wait_guest(ticks=await client.guest_ticks() + 5, timeout=30)  # it runs there now
            ticks_before = await client.guest_ticks()
        await kill_stream(uri.rsplit(":", 1)[1])
        await until(lambda: source.latest.status == PAUSED and destination.latest.status == PAUSED, 30,
                    "both sides to show the postcopy paused")
        told = source.prediction()
        assert told.verdict is Verdict.POSTCOPY_PAUSED and "split between two hosts" in told.summary
        assert any("recover" in reason for reason in told.reasons)
        assert recover.destination_among(fleet.states, "vm1") == "vm1-dst"
    # The fleet is closed (QEMU serves one client a socket): the command line takes it from here.
    code, out, err = await run_cli("recover", "vm1", "--config", str(inventory), "--audit-log", str(audit),
                                   "--yes", timeout=60)
    assert code == 0, err
    assert "postcopy resumed to vm1-dst" in out
    async with ctl(src) as source_client, ctl(dst) as client:
        # Let the rest of the memory come at full speed: the test waits for the end, not for the cap.
        await source_client.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})

        async def completed() -> bool:
            return (await client.execute("query-migrate")).get("status") == "completed"

        await until_true(completed, 90, "the recovered postcopy to complete on the destination")
        assert (await client.execute("query-status"))["status"] == "running"
        await client.wait_guest(ticks=ticks_before + 20, timeout=30)  # the guest's counter goes on
        assert (await source_client.execute("query-migrate"))["status"] == "completed"
    commands = [json.loads(line)["command"] for line in audit.read_text().splitlines()]
    assert commands[-2:] == ["migrate-recover", "migrate"], commands


async def test_recover_without_a_paused_postcopy_is_one_line_and_changes_nothing(lab, tmp_path):
    await lab.start_source("vm1", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=1)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    code, out, err = await run_cli("recover", "vm1", "--config", str(inventory), "--yes", timeout=30)
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "recover acts on a postcopy-paused one" in err, err


async def test_migtui_pause_stops_a_postcopy_on_purpose_and_recover_resumes_it(lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=48, dirty_rate_mib_s=4)
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = str(lab.write_inventory(tmp_path / "inventory.toml"))
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)
    code, _, err = await run_cli("migrate", "vm1", "vm1-dst", "--config", inventory, "--cap", "postcopy-ram=on",
                                 "--set", "max-bandwidth=8M", "--set", "max-postcopy-bandwidth=2M", timeout=60)
    assert code == 0, err
    async with ctl(src) as source, ctl(dst) as destination:
        async def status_of(client) -> str:
            return (await client.execute("query-migrate")).get("status", "none")

        async def first_pass_over() -> bool:
            return (await source.execute("query-migrate")).get("ram", {}).get("dirty-sync-count", 0) >= 2

        await until_true(first_pass_over, 30, "the first pass")
        code, _, err = await run_cli("postcopy", "vm1", "--config", inventory, "--yes")
        assert code == 0, err

        async def in_postcopy() -> bool:
            return await status_of(destination) == "postcopy-active"

        await until_true(in_postcopy, 30, "postcopy on the destination")
        code, out, err = await run_cli("pause", "vm1", "--config", inventory, "--yes")
        assert code == 0 and "postcopy paused" in out, err

        async def both_paused() -> bool:
            return await status_of(source) == PAUSED and await status_of(destination) == PAUSED

        await until_true(both_paused, 30, "both sides paused")
        code, out, err = await run_cli("recover", "vm1", "--to", "vm1-dst", "--config", inventory, "--yes")
        assert code == 0, err
        await source.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})

        async def completed() -> bool:
            return await status_of(destination) == "completed" and await status_of(source) == "completed"

        await until_true(completed, 90, "the resumed postcopy to complete")
        assert (await destination.execute("query-status"))["status"] == "running"
