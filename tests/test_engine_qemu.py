"""The fleet engine and the headless CLI against real QEMU migrations."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys

import pytest

from migtui.inventory import VMEntry
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.session import VMSession
from migtui.qmp.updates import EventReceived, SampleTaken
from waiting import until

pytestmark = pytest.mark.qemu
MiB = 1 << 20


async def written_once(ctl, vm) -> None:
    """Wait until the guest wrote its whole range once: zero pages cost nothing to migrate."""
    async with ctl(vm) as client:
        await client.wait_guest(passes=1, timeout=60)


def entries(*vms) -> list[VMEntry]:
    return [VMEntry(name=vm.name, qmp=str(vm.qmp_path)) for vm in vms]


async def test_a_migration_with_several_passes_is_followed_to_completion(lab, ctl, tmp_path):
    # 32 MiB dirtied at 8 MiB/s against 16 MiB/s and a 50 ms downtime limit: several passes.
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=32, dirty_rate_mib_s=8)
    dst = await lab.start_destination("vm1-dst", like=src)
    await written_once(ctl, src)
    samples, events = [], []
    fleet = Fleet(entries(src, dst), CommandGate(AuditLog(tmp_path / "audit.jsonl")), fast=0.1)
    fleet.subscribe(lambda u: samples.append(u.sample) if isinstance(u, SampleTaken) and u.vm == "vm1" else None)
    fleet.subscribe(lambda u: events.append((u.vm, u.event.name, u.event.data)) if isinstance(u, EventReceived) else None)
    async with fleet:
        await fleet.wait_connected(10)
        plan = MigrationPlan({"max-bandwidth": 16 * MiB, "downtime-limit": 50})
        await start_migration(fleet.sessions["vm1"], fleet.sessions["vm1-dst"], plan)
        await until(lambda: samples and samples[-1].status == "completed", 120, "the migration to complete")
        await until(lambda: fleet.states["vm1-dst"].run_state == "running", 20, "the destination to run")
        # Each side knows its role (the destination's query-migrate said "active" too).
        assert fleet.states["vm1-dst"].incoming and not fleet.states["vm1"].incoming

    statuses = [s.status for s in samples if s.status != "none"]
    order = ["setup", "active", "completed"]
    assert "active" in statuses and statuses[-1] == "completed"
    assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
    trace = [(s.status, s.passes, s.dirty_rate, s.remaining) for s in samples]
    assert any(s.passes >= 2 and s.dirty_rate > 0 for s in samples), trace
    progress = [s.progress for s in samples if s.progress is not None]
    assert progress == sorted(progress) and progress[-1] == 1.0
    source_migration = [d["status"] for vm, name, d in events if vm == "vm1" and name == "MIGRATION"]
    assert source_migration == ["setup", "active", "completed"]
    assert any(vm == "vm1" and name == "MIGRATION_PASS" for vm, name, _ in events)
    dst_events = [name for vm, name, _ in events if vm == "vm1-dst"]
    assert "MIGRATION" in dst_events and "RESUME" in dst_events


async def test_the_guest_runs_on_the_destination_after_migrating(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    dst = await lab.start_destination("vm1-dst", like=src)
    fleet = Fleet(entries(src, dst), fast=0.1)
    async with fleet:
        await fleet.wait_connected(10)
        await start_migration(fleet.sessions["vm1"], fleet.sessions["vm1-dst"])
        await until(lambda: fleet.states["vm1"].latest and fleet.states["vm1"].latest.status == "completed",
                    60, "the migration to complete")
    async with ctl(dst) as client:
        first = await client.guest_ticks()
        await client.wait_guest(ticks=first + 1, timeout=20)  # the guest runs on the destination


async def test_a_migration_that_cannot_converge_is_called_a_stall_and_recovers(lab, ctl):
    # 32 MiB rewritten as fast as the guest can against 16 MiB/s and 20 ms: passes of 2 s that never
    # shrink, so the stall (STALL_PASSES passes) is seen in about 10 s.
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=32, dirty_rate_mib_s=math.inf)
    dst = await lab.start_destination("vm1-dst", like=src)
    await written_once(ctl, src)
    fleet = Fleet(entries(src, dst), fast=0.1)
    async with fleet:
        await fleet.wait_connected(10)
        plan = MigrationPlan({"max-bandwidth": 16 * MiB, "downtime-limit": 20})
        await start_migration(fleet.sessions["vm1"], fleet.sessions["vm1-dst"], plan)
        state = fleet.states["vm1"]
        await until(lambda: state.tracker.stalled, 180, "the stall to be noticed")
        prediction = state.prediction()
        assert prediction.verdict == "not-converging"
        assert any(action.name == "downtime-limit" for action in prediction.actions)
        # What the prediction recommends works: a longer downtime limit lets it finish.
        await fleet.session("vm1").execute("migrate-set-parameters", {"downtime-limit": 20000, "max-bandwidth": 1 << 30})
        await until(lambda: state.latest.status == "completed", 120, "the migration to complete")


async def test_killing_the_source_mid_migration_leaves_the_fleet_running(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=64, dirty_rate_mib_s=math.inf)
    dst = await lab.start_destination("vm1-dst", like=src)
    await written_once(ctl, src)
    other = await lab.start_source("vm2", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    fleet = Fleet(entries(src, dst, other), fast=0.1, slow=0.2)
    async with fleet:
        await fleet.wait_connected(10)
        await start_migration(fleet.sessions["vm1"], fleet.sessions["vm1-dst"],
                              MigrationPlan({"max-bandwidth": 8 * MiB}))
        await until(lambda: fleet.states["vm1"].latest and fleet.states["vm1"].latest.status == "active",
                    30, "the migration to run")
        old_dst_pid = lab["vm1-dst"].pid
        await lab.kill("vm1")
        await until(lambda: fleet.states["vm1"].link == "disconnected", 15, "vm1 to show disconnected")
        assert fleet.states["vm1"].link_error
        # The destination QEMU exits after the failed incoming migration; the lab restarts it
        # and the fleet reconnects to the new one.
        await lab.wait_restarted("vm1-dst", old_dst_pid)
        await until(lambda: fleet.states["vm1-dst"].link == "connected"
                    and fleet.states["vm1-dst"].run_state == "inmigrate", 30, "vm1-dst to reconnect")
        seen_before = len(fleet.states["vm2"].tracker.history)
        await until(lambda: len(fleet.states["vm2"].tracker.history) > seen_before + 2, 10, "vm2 to keep being polled")
        await lab.restart("vm1")
        await until(lambda: fleet.states["vm1"].link == "connected", 30, "vm1 to reconnect")


async def run_cli(*argv: str, timeout: float = 120) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "migtui", *argv,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


async def test_migrate_cli_waits_for_completion_and_audits(lab, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    await lab.start_destination("vm1-dst", like=src)
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    audit = tmp_path / "audit.jsonl"
    code, out, err = await run_cli("migrate", "--config", str(inventory), "--audit-log", str(audit),
                                   "vm1", "vm1-dst", "--set", "max-bandwidth=256M", "--wait", "--json")
    assert code == 0, err
    statuses = [line["sample"]["status"] for line in map(json.loads, out.splitlines()) if "sample" in line]
    assert statuses[-1] == "completed"
    logged = [(e["vm"], e["command"], e["outcome"]) for e in AuditLog(audit).entries()]
    assert ("vm1", "migrate-set-parameters", "ok") in logged
    assert ("vm1-dst", "migrate-incoming", "ok") in logged
    assert ("vm1", "migrate", "ok") in logged


async def test_read_only_migrate_is_refused_and_nothing_changes(lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    audit = tmp_path / "audit.jsonl"
    code, out, err = await run_cli("migrate", "--config", str(inventory), "--audit-log", str(audit),
                                   "--read-only", "vm1", "vm1-dst", "--wait")
    assert code == 1
    assert "read-only" in err and "Traceback" not in err
    assert [e["outcome"] for e in AuditLog(audit).entries()] == ["refused"]
    async with ctl(src) as source, ctl(dst) as destination:
        assert (await source.execute("query-status"))["status"] == "running"
        assert await source.execute("query-migrate") == {}
        caps = await source.execute("query-migrate-capabilities")
        assert not any(c["state"] for c in caps if c["capability"] == "events")
        assert (await destination.execute("query-status"))["status"] == "inmigrate"


async def test_a_destination_already_taking_a_migration_is_refused_before_anything_is_sent(lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(dst) as destination:  # another migration's migrate-incoming: vm1-dst listens for it
        await destination.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    audit = tmp_path / "audit.jsonl"
    code, out, err = await run_cli("migrate", "--config", str(inventory), "--audit-log", str(audit),
                                   "vm1", "vm1-dst")
    assert code == 1 and "vm1-dst already takes an incoming migration" in err and "Traceback" not in err, err
    assert AuditLog(audit).entries() == []  # nothing sent to either VM
    async with ctl(src) as source:
        assert await source.execute("query-migrate") == {}


async def test_qemu_refusal_is_shown_verbatim_and_nothing_is_applied(lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    await lab.start_destination("vm1-dst", like=src)
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    code, out, err = await run_cli("migrate", "--config", str(inventory), "--audit-log", str(tmp_path / "a.jsonl"),
                                   "vm1", "vm1-dst", "--set", "downtime-limit=500", "--set", "max-cpu-throttle=10")
    # Valid for the schema (so it is sent), refused by QEMU: below cpu-throttle-initial.
    assert code == 1
    assert "Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99" in err
    assert len(err.strip().splitlines()) == 1
    async with ctl(src) as source:
        assert (await source.execute("query-migrate-parameters"))["downtime-limit"] == 300
        assert await source.execute("query-migrate") == {}


async def test_a_refused_migrate_puts_back_what_was_set_before_it(lab, ctl):
    from migtui.qmp.errors import QEMURefused
    from migtui.qmp.session import VMSession

    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    async with ctl(src) as independent:
        before_params = await independent.execute("query-migrate-parameters")
        before_caps = await independent.execute("query-migrate-capabilities")
    plan = MigrationPlan({"max-bandwidth": 64 * MiB, "downtime-limit": 500}, {"auto-converge": True})
    async with VMSession("vm1", str(src.qmp_path)) as session:
        # Parameters and capabilities are accepted; then QEMU refuses the URI itself.
        with pytest.raises(QEMURefused):
            await start_migration(session, "nosuch:anywhere", plan, check=False)
    async with ctl(src) as independent:
        assert await independent.execute("query-migrate-parameters") == before_params
        assert await independent.execute("query-migrate-capabilities") == before_caps
        # QEMU keeps its own record of the refused attempt; nothing is migrating.
        assert (await independent.execute("query-migrate")).get("status") in (None, "failed")


async def test_watch_json_survives_a_killed_vm_and_reports_it(lab, tmp_path):
    await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    await lab.start_source("vm2", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "migtui", "watch", "--config", str(inventory), "--json", "--interval", "0.2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async def next_line() -> dict:
            return json.loads(await asyncio.wait_for(process.stdout.readline(), 30))

        seen = set()
        while seen != {"vm1", "vm2"}:
            line = await next_line()
            if "sample" in line:
                assert line["sample"]["status"] == "none" and "time" in line
                seen.add(line["vm"])
        await lab.kill("vm1")
        while True:
            line = await next_line()
            if line["vm"] == "vm1" and line.get("link", "").startswith("disconnected"):
                break
        later = [await next_line() for _ in range(6)]
        assert any(l["vm"] == "vm2" and "sample" in l for l in later)
        assert process.returncode is None
    finally:
        process.terminate()
        await process.wait()


async def test_watch_shows_a_source_killed_mid_migration_as_last_seen_and_advises_nothing(lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=64, dirty_rate_mib_s=math.inf)
    dst = await lab.start_destination("vm1-dst", like=src)
    await lab.start_source("vm2", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    await written_once(ctl, src)
    from migtui.qmp.session import VMSession

    # Started before watch: QEMU serves one client per QMP socket. It cannot converge at 4 MiB/s.
    async with VMSession("vm1", str(src.qmp_path)) as source, VMSession("vm1-dst", str(dst.qmp_path)) as target:
        await start_migration(source, target, MigrationPlan({"max-bandwidth": 4 * MiB, "downtime-limit": 10}))
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "migtui", "watch", "--config", str(inventory), "--json", "--interval", "0.2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async def next_line() -> dict:
            return json.loads(await asyncio.wait_for(process.stdout.readline(), 30))

        while True:
            line = await next_line()
            if line["vm"] == "vm1" and line.get("sample", {}).get("status") == "active":
                break
        await lab.kill("vm1")
        while True:
            line = await next_line()
            if line["vm"] == "vm1" and line.get("link", "").startswith("disconnected"):
                break
        seen = line["last_seen"]
        assert seen["sample"]["status"] == "active" and seen["sample"]["ram"]["total"] > 0
        assert seen["time"] <= line["time"]
        later = [await next_line() for _ in range(8)]
        assert any(l["vm"] == "vm2" and "sample" in l for l in later)  # the others go on
        assert not any(l["vm"] == "vm1" and ("sample" in l or "stall" in l) for l in later)
        assert process.returncode is None
    finally:
        process.terminate()
        await process.wait()


async def test_a_change_through_the_fleet_returns_with_the_state_already_reread(lab, tmp_path):
    from migtui.qmp.errors import QEMURefused

    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    audit = tmp_path / "audit.jsonl"
    # A slow poll: only the change's own re-read can bring the new value this soon.
    async with Fleet(entries(vm), CommandGate(AuditLog(audit)), fast=30, slow=30) as fleet:
        await fleet.wait_connected(timeout=30)
        await until(lambda: fleet.states["vm1"].parameters.get("downtime-limit") == 300, timeout=30,
                    what="the first read of the parameters")

        async def set_limit(session):
            await session.execute("migrate-set-parameters", {"downtime-limit": 1234})

        await fleet.change("vm1", set_limit)
        assert fleet.states["vm1"].parameters["downtime-limit"] == 1234

        async def refused(session):
            await session.execute("migrate-set-parameters", {"downtime-limit": 1, "max-cpu-throttle": 1})

        with pytest.raises(QEMURefused):
            await fleet.change("vm1", refused)
        assert fleet.states["vm1"].parameters["downtime-limit"] == 1234
    assert "migrate-set-parameters" in audit.read_text()


async def test_qmp_messages_still_reach_the_debug_log_when_it_is_on(lab, caplog):
    # migtui skips qemu.qmp's indented text of each message when nothing logs it; with debug on it is there.
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    async with VMSession("vm1", str(vm.qmp_path), CommandGate()) as session:
        await session.wait_connected()
        with caplog.at_level(logging.DEBUG, logger="qemu.qmp"):
            await session.query("query-status")
    sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("--> ")]
    received = [r.getMessage() for r in caplog.records if r.getMessage().startswith("<-- ")]
    assert any('"execute": "query-status"' in line for line in sent), sent
    assert any('"status": "running"' in line for line in received), received


async def test_migrate_without_wait_says_a_migration_that_failed_at_once(lab, tmp_path):
    await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    # Nothing listens on port 1: QEMU answers the migrate command, then its connect fails.
    code, out, err = await run_cli("migrate", "--config", str(inventory), "vm1", "tcp:127.0.0.1:1")
    assert code == 1, err
    assert "migtui: vm1: migration failed:" in err and "Connection refused" in err, err
