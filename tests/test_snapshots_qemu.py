"""Snapshot jobs on a real QEMU 7.2 with a qcow2 disk: engine and CLI."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from migtui.inventory import VMEntry
from migtui.qmp import snapshots
from migtui.qmp.fleet import Fleet
from migtui.qmp.session import VMSession
from waiting import until, until_true

pytestmark = pytest.mark.qemu


async def migtui(*argv: str, timeout: float = 120) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "migtui", *argv, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def disk_vm(lab, tmp_path):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8, disk=True)
    inventory = tmp_path / "inventory.toml"
    lab.write_inventory(inventory)
    return vm, ["--config", str(inventory), "--audit-log", str(tmp_path / "audit.jsonl")]


async def test_save_follows_every_phase_to_concluded_and_dismisses(disk_vm):
    vm, _ = disk_vm
    async with VMSession("vm1", str(vm.qmp_path)) as session:
        request = snapshots.SnapshotRequest("save", "first", "job-1", "disk0", ["disk0"])
        outcome = await snapshots.run_job(session, request)
        assert [status for status, _ in outcome.job.phases] == ["created", "running", "waiting", "pending", "concluded"]
        assert outcome.ok and outcome.dismissed
        # The save's time is spent running (writing the guest's RAM), as QEMU's event timestamps tell; its
        # events reach migtui together once the save is over, so their arrival would put it all in 'created'.
        spans = dict(outcome.job.elapsed())
        assert spans["running"] > spans["created"], spans
        assert await session.execute("query-jobs") == []
        assert [s.tag for s in await snapshots.list_snapshots(session)] == ["first"]


async def test_cli_save_list_load_delete(disk_vm, ctl):
    vm, opts = disk_vm
    code, out, err = await migtui("snapshot", "vm1", "save", "before-upgrade", "--wait", *opts)
    assert code == 0, err
    assert "concluded" in out
    code, out, _ = await migtui("snapshot", "vm1", "list", *opts)
    assert "before-upgrade" in out and "disk0" in out
    code, out, err = await migtui("snapshot", "vm1", "load", "before-upgrade", "--yes", "--wait", *opts)
    assert code == 0, err
    async with ctl(vm) as client:
        assert (await client.execute("query-status"))["status"] == "running"
    code, _, err = await migtui("snapshot", "vm1", "delete", "before-upgrade", "--yes", "--wait", *opts)
    assert code == 0, err
    code, out, _ = await migtui("snapshot", "vm1", "list", "--json", *opts)
    assert out.strip() == ""
    async with ctl(vm) as client:
        assert await client.execute("query-jobs") == []


async def test_destructive_actions_need_confirmation_without_a_terminal(disk_vm, ctl):
    vm, opts = disk_vm
    assert (await migtui("snapshot", "vm1", "save", "keep-me", "--wait", *opts))[0] == 0
    code, _, err = await migtui("snapshot", "vm1", "delete", "keep-me", "--wait", *opts)
    assert code == 1 and "--yes" in err
    code, _, err = await migtui("snapshot", "vm1", "load", "keep-me", "--wait", *opts)
    assert code == 1 and "--yes" in err
    async with VMSession("check", str(vm.ctl_path)) as session:
        assert [s.tag for s in await snapshots.list_snapshots(session)] == ["keep-me"]


async def test_bad_input_shows_qemus_reason_and_leaves_no_job(disk_vm, ctl):
    vm, opts = disk_vm
    assert (await migtui("snapshot", "vm1", "save", "dup", "--wait", *opts))[0] == 0

    code, _, err = await migtui("snapshot", "vm1", "save", "dup", "--wait", *opts)
    assert code == 1 and "Snapshot 'dup' already exists" in err

    code, _, err = await migtui("snapshot", "vm1", "save", "other", "--device", "nope", "--wait", *opts)
    assert code == 1 and "nope" in err and "Traceback" not in err

    async with ctl(vm) as client:
        assert await client.execute("query-jobs") == []


async def test_a_job_id_in_use_is_refused_with_qemus_words(disk_vm, ctl):
    vm, opts = disk_vm
    assert (await migtui("snapshot", "vm1", "save", "a", "--job-id", "same", "--wait", "--keep", *opts))[0] == 0
    code, _, err = await migtui("snapshot", "vm1", "save", "b", "--job-id", "same", "--wait", *opts)
    assert code == 1 and "Job ID 'same' already in use" in err
    assert (await migtui("snapshot", "vm1", "dismiss", "same", *opts))[0] == 0
    async with ctl(vm) as client:
        assert await client.execute("query-jobs") == []


async def test_a_tag_the_vm_does_not_have_is_refused_before_the_guest_is_touched(disk_vm, ctl):
    vm, opts = disk_vm
    assert (await migtui("snapshot", "vm1", "save", "real", "--wait", *opts))[0] == 0
    for verb in ("load", "delete"):
        code, _, err = await migtui("snapshot", "vm1", verb, "reel", "--yes", "--wait", *opts)
        assert code == 2, verb
        assert err.strip() == "migtui: vm1 has no snapshot 'reel' (its snapshots: 'real')", verb
    async with ctl(vm) as client:
        assert (await client.execute("query-status"))["status"] == "running"  # never paused
        assert await client.execute("query-jobs") == []


async def test_a_failed_load_says_in_one_line_that_the_vm_is_paused_and_resume_works(disk_vm, ctl):
    vm, opts = disk_vm
    assert (await migtui("snapshot", "vm1", "save", "real", "--wait", *opts))[0] == 0
    # The tag exists; a node that does not is refused by QEMU only after it stopped the guest.
    code, _, err = await migtui("snapshot", "vm1", "load", "real", "--device", "nope", "--yes", "--wait", *opts)
    assert code == 1
    failed = [line for line in err.splitlines() if "failed" in line]
    assert len(failed) == 1 and "nope" in failed[0]
    assert "paused (restore-vm)" in failed[0] and "migtui snapshot vm1 resume" in failed[0]
    assert (await migtui("snapshot", "vm1", "resume", *opts))[0] == 0
    async with ctl(vm) as client:
        assert (await client.execute("query-status"))["status"] == "running"
        assert await client.execute("query-jobs") == []


async def test_read_only_refuses_all_three(disk_vm, ctl):
    vm, opts = disk_vm
    async with ctl(vm) as client:  # a tag that exists: load and delete get as far as the gate
        await client.execute("snapshot-save", {"job-id": "j", "tag": "t", "vmstate": "disk0", "devices": ["disk0"]},
                             timeout=60)
        await client.execute("job-dismiss", {"id": "j"})
    for verb in ("save", "load", "delete"):
        code, _, err = await migtui("snapshot", "vm1", verb, "t", "--yes", "--wait", "--read-only", *opts)
        assert code == 1 and "read-only" in err, verb
    async with ctl(vm) as client:
        assert await client.execute("query-jobs") == []


async def test_a_job_started_by_another_client_is_picked_up(disk_vm, ctl):
    vm, _ = disk_vm
    async with ctl(vm) as other_client:
        await other_client.execute("snapshot-save", {"job-id": "external", "tag": "x", "vmstate": "disk0",
                                                     "devices": ["disk0"]}, timeout=60)
    fleet = Fleet([VMEntry(name="vm1", qmp=str(vm.qmp_path))])
    async with fleet:
        await until(lambda: "external" in fleet.states["vm1"].jobs.jobs, 30, "the external job to be picked up")
        job = fleet.states["vm1"].jobs.jobs["external"]
        assert job.type == "snapshot-save" and job.status == "concluded"


async def test_a_saving_vm_shows_busy_not_lost_and_the_fleet_goes_on(lab, ctl, monkeypatch):
    # QMP is silent for the whole save (about 0.7 s for 256 MiB here): below
    # the dashboard's one-second threshold, so the test lowers it.
    import migtui.model.vm_state
    import migtui.qmp.poller
    monkeypatch.setattr(migtui.qmp.poller, "BUSY_AFTER", 0.2)
    monkeypatch.setattr(migtui.model.vm_state, "BUSY_AFTER", 0.2)
    saver = await lab.start_source("vm1", mem_mib=256, dirty_mib=240, dirty_rate_mib_s=512, disk=True)
    other = await lab.start_source("vm2", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    async with ctl(saver) as client:
        await client.wait_guest(passes=1, timeout=60)
    fleet = Fleet([VMEntry(name="vm1", qmp=str(saver.qmp_path)), VMEntry(name="vm2", qmp=str(other.qmp_path))],
                  fast=0.1, slow=0.1)
    seen: list[tuple[str, bool, int]] = []
    fleet.subscribe(lambda update: seen.append((fleet.states["vm1"].link, fleet.states["vm1"].busy,
                                                len(fleet.states["vm2"].tracker.history))))
    async with fleet:
        await fleet.wait_connected(10)
        request = snapshots.SnapshotRequest("save", "big", "big-save", "disk0", ["disk0"])
        outcome = await snapshots.run_job(fleet.sessions["vm1"], request)
        assert outcome.ok
    busy = [(link, vm2_samples) for link, is_busy, vm2_samples in seen if is_busy]
    assert busy, "vm1 was never shown busy during the save"
    assert all(link == "connected" for link, _ in busy), "a silent VM was shown as lost"
    assert busy[-1][1] > busy[0][1], "vm2 was not sampled while vm1 was busy"


async def test_watch_json_never_reports_a_snapshot_as_a_migration(disk_vm, ctl):
    vm, options = disk_vm
    watch = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "migtui", "watch", "--json", "--interval", "0.2", *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines: list[dict] = []
    try:
        while not any("sample" in line for line in lines):  # watch is connected and sampling
            raw = await asyncio.wait_for(watch.stdout.readline(), 20)
            assert raw, "watch ended"
            lines.append(json.loads(raw))
        # watch holds migtui's socket (QEMU serves one client on it): the jobs go through the lab's.
        async with ctl(vm) as client:
            await client.set_capabilities(events=True)  # savevm then sends MIGRATION events, as a migration would
            for command, job in (("snapshot-save", "save-1"), ("snapshot-load", "load-1")):
                await client.execute(command, {"job-id": job, "tag": "s1", "vmstate": "disk0", "devices": ["disk0"]})
                await until_true(lambda: _concluded(client, job), 30, f"{job} concluded")
                await client.execute("job-dismiss", {"id": job})
        while not any("snapshot" in line for line in lines):  # the sample after the jobs, with a deadline
            raw = await asyncio.wait_for(watch.stdout.readline(), 20)
            assert raw, "watch ended"
            lines.append(json.loads(raw))
    finally:
        watch.kill()
        await watch.wait()
    samples = [line["sample"]["status"] for line in lines if "sample" in line]
    assert set(samples) <= {"none"}, samples
    migration_events = [line for line in lines if line.get("event", "").startswith("MIGRATION")]
    assert migration_events and all(line.get("during") for line in migration_events), lines


async def _concluded(client, job: str) -> bool:
    return any(j["id"] == job and j["status"] == "concluded" for j in await client.execute("query-jobs"))
