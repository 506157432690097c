"""The lab against real QEMU: the guest dirties memory, idles cheaply,
migrates; destinations come back after a failed migration; nothing is ever
left running."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import struct
import sys
import textwrap
from pathlib import Path

import pytest

from migtui.inventory import load_inventory
from migtui.lab import FULL_SPEED, TICK_HZ, GuestSpec, Lab, LabError
from migtui.lab.control import ControlClient, free_migration_uri
from waiting import until
from migtui.lab.guest import LOAD_ADDR, MULTIBOOT_MAGIC, PARAMS_OFFSET, guest_image, listing

pytestmark = pytest.mark.qemu
MiB = 1 << 20


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def migrate(source: ControlClient, destination: ControlClient) -> None:
    """The migration a user runs: events on both sides, incoming, then migrate."""
    for side in (source, destination):
        await side.set_capabilities(events=True)
    uri = free_migration_uri()
    await destination.execute("migrate-incoming", {"uri": uri})
    await source.execute("migrate", {"uri": uri})


def test_guest_image_is_a_multiboot_kernel_with_its_parameters_in_place():
    image = guest_image(GuestSpec(dirty_mib=16, dirty_rate_mib_s=32))
    magic, flags, checksum = struct.unpack_from("<III", image)
    assert magic == MULTIBOOT_MAGIC and flags & 0x00010000
    assert (magic + flags + checksum) % 2**32 == 0
    load_addr = struct.unpack_from("<I", image, 16)[0]
    assert load_addr == LOAD_ADDR == 1 * MiB
    start, end, per_tick, halts = struct.unpack_from("<IIII", image, PARAMS_OFFSET)
    assert end - start == 16 * MiB
    assert per_tick * TICK_HZ * 4096 == pytest.approx(32 * MiB, rel=0.01)
    assert halts == 1
    assert "hlt" in listing() and "iret" in listing()


def test_guest_spec_turns_rates_into_pages_per_tick():
    assert GuestSpec(32, 0).pages_per_tick == 0
    assert GuestSpec(0, 64).pages_per_tick == 0
    assert GuestSpec(32, FULL_SPEED).pages_per_tick == 32 * 256 and not GuestSpec(32, FULL_SPEED).halts
    assert GuestSpec(32, 0.001).pages_per_tick == 1  # a tiny rate still dirties
    with pytest.raises(ValueError, match="does not fit"):
        GuestSpec(200, 8).check(mem_mib=128)


async def test_guest_dirties_its_range_at_the_requested_rate(lab, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=32)
    async with ctl(vm) as client:
        ticks0, passes0 = await client.wait_guest(passes=1)
        ticks1, passes1 = await client.wait_guest(passes=passes0 + 16)
    # Measured on the guest's own clock (its timer ticks), so a busy host
    # slows the guest but does not skew the rate.
    rate = (passes1 - passes0) * 4 / ((ticks1 - ticks0) / TICK_HZ)
    assert rate == pytest.approx(32, rel=0.15)


async def test_an_idle_guest_costs_far_less_cpu_than_a_busy_one(lab, ctl):
    idle = await lab.start_source("idle", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=0)
    busy = await lab.start_source("busy", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=FULL_SPEED)
    async with ctl(idle) as idle_ctl, ctl(busy) as busy_ctl:
        idle_ticks = (await idle_ctl.wait_guest(ticks=10))[0]  # booted: the BIOS is behind us
        await busy_ctl.wait_guest(passes=10)
        idle_cpu, busy_cpu = cpu_seconds(idle.pid), cpu_seconds(busy.pid)
        # Measure over the time the busy guest takes to burn one CPU second.
        await until(lambda: cpu_seconds(busy.pid) - busy_cpu >= 1.0, 60, "the busy guest to use 1 s of CPU")
        idle_used, busy_used = cpu_seconds(idle.pid) - idle_cpu, cpu_seconds(busy.pid) - busy_cpu
        assert await idle_ctl.guest_ticks() > idle_ticks, "the idle guest stopped ticking"
    assert idle_used < busy_used / 10, f"idle used {idle_used:.2f} s of CPU while busy used {busy_used:.2f} s"


async def test_a_migration_to_the_destination_completes_and_the_guest_runs_there(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=32)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as source, ctl(dst) as destination:
        assert (await destination.execute("query-status"))["status"] == "inmigrate"
        await source.wait_guest(passes=1)  # the whole range is dirty: real pages to send
        await migrate(source, destination)
        await source.wait_migration("completed", timeout=60)
        await destination.wait_migration("completed", timeout=30)
        info = await source.execute("query-migrate")
        assert info["ram"]["transferred"] > 16 * MiB
        assert (await source.execute("query-status"))["status"] == "postmigrate"
        assert (await destination.execute("query-status"))["status"] == "running"
        ticks = await destination.guest_ticks()
        await destination.wait_guest(ticks=ticks + 10)  # the guest carries on over there
    assert dst.restarts == 0 and dst.alive


async def test_a_cancelled_incoming_migration_brings_a_fresh_destination(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=32, dirty_rate_mib_s=64)
    dst = await lab.start_destination("vm1-dst", like=src)
    first_pid = dst.pid
    async with ctl(src) as source, ctl(dst) as destination:
        await source.wait_guest(passes=1)
        await source.execute("migrate-set-parameters", {"max-bandwidth": 4 * MiB})  # too slow to finish
        await migrate(source, destination)
        await source.wait_migration("active")
        await source.execute("migrate_cancel")
        await source.wait_migration("cancelled")
    await lab.wait_restarted("vm1-dst", first_pid, timeout=30)

    assert dst.pid != first_pid and dst.restarts == 1
    assert dst.exits[-1].pid == first_pid and dst.exits[-1].returncode == 1
    # QEMU explains the failure only on the destination's stderr: it is kept.
    kept = Path(f"{dst.stderr_path}.1").read_text()
    assert "load of migration failed" in kept
    assert "load of migration failed" in dst.exits[-1].stderr_tail
    assert "load of migration failed" not in dst.stderr_path.read_text()

    # The new destination waits under the same socket, and takes a migration.
    async with ctl(src) as source, ctl(dst) as destination:
        assert (await destination.execute("query-status"))["status"] == "inmigrate"
        await source.execute("migrate-set-parameters", {"max-bandwidth": 1 << 30})
        await migrate(source, destination)
        await destination.wait_migration("completed", timeout=60)
    assert dst.restarts == 1


async def test_a_failed_migration_keeps_qemus_reason_on_the_old_stderr(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    dst = await lab.start_destination("vm1-dst", like=src, mem_mib=256)  # wrong size, on purpose
    first_pid = dst.pid
    async with ctl(src) as source, ctl(dst) as destination:
        await migrate(source, destination)
        with pytest.raises(LabError, match="migration failed"):
            await source.wait_migration("completed")
    await lab.wait_restarted("vm1-dst", first_pid, timeout=30)
    assert "Size mismatch: pc.ram" in Path(f"{dst.stderr_path}.1").read_text()


async def test_a_destination_shares_the_source_disk_and_sees_its_snapshots(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=4, disk=True)
    dst = await lab.start_destination("vm1-dst", like=src)
    assert src.disk_path and src.disk_path.exists() and dst.disk_path == src.disk_path

    async def snapshots(client: ControlClient) -> list[str]:
        image = (await client.execute("query-block"))[0]["inserted"]["image"]
        return [s["name"] for s in image.get("snapshots", [])]

    async with ctl(src) as source, ctl(dst) as destination:
        await source.set_capabilities(events=True)
        await source.execute("snapshot-save", {"job-id": "save", "tag": "before", "vmstate": "disk0",
                                               "devices": ["disk0"]})
        await source.wait_event("JOB_STATUS_CHANGE", lambda d: d["id"] == "save" and d["status"] == "concluded")
        assert "error" not in (await source.execute("query-jobs"))[0]
        await source.execute("job-dismiss", {"id": "save"})
        await migrate(source, destination)
        await destination.wait_migration("completed", timeout=60)
        assert await snapshots(destination) == ["before"]


async def test_stop_and_close_leave_no_qemu_and_no_socket(lab_dir):
    async with Lab(lab_dir) as lab:
        pairs = await lab.up(n=2, dirty_mib=[4, 8], dirty_rate_mib_s=[0, 8])
        pids = [vm.pid for pair in pairs for vm in pair]
        assert [vm.name for vm in lab.vms.values()] == ["vm1", "vm2", "vm1-dst", "vm2-dst"]
        assert pairs[1][0].guest == GuestSpec(8, 8)
        await lab.stop("vm1-dst")
        assert not running(pids[1]) and not lab["vm1-dst"].alive
        assert lab["vm1-dst"].restarts == 0  # stopped on purpose: not restarted
    assert not any(running(pid) for pid in pids)
    assert not list(lab_dir.glob("*.qmp"))


async def test_a_qemu_that_fails_to_start_is_reported_with_its_stderr(lab_dir):
    wrapper = lab_dir / "qemu-with-a-bad-device"
    wrapper.write_text('#!/bin/sh\nexec qemu-system-x86_64 "$@" -device no-such-device\n')
    wrapper.chmod(0o755)
    async with Lab(lab_dir, qemu=str(wrapper)) as lab:
        with pytest.raises(LabError, match="exited with status 1 during start-up: .*no-such-device"):
            await lab.start_source("vm1")
        assert "vm1" not in lab.vms
    with pytest.raises(LabError, match="longer than 107 bytes"):
        async with Lab(lab_dir / ("x" * 100)) as lab:
            await lab.start_source("vm1")


async def test_inventory_lists_every_vm_for_migtui(lab, tmp_path):
    await lab.up(n=2, dirty_mib=[4, 16], dirty_rate_mib_s=[0, math.inf])
    path = lab.write_inventory(tmp_path / "inventory.toml")
    inventory = load_inventory(path)
    assert [vm.name for vm in inventory.vm] == ["vm1", "vm1-dst", "vm2", "vm2-dst"]
    assert all(vm.group == "lab" and Path(vm.qmp).is_socket() for vm in inventory.vm)
    assert inventory.get("vm2").notes == "source, 128 MiB, dirties 16 MiB as fast as it can"
    assert inventory.get("vm1").notes == "source, 128 MiB, idle guest (dirties nothing)"
    assert inventory.settings.audit_log == lab.directory / "audit.jsonl"


async def run_migtui(*argv: str, timeout: float = 90) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "migtui", *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(), err.decode()


async def test_lab_cli_up_status_down(lab_dir, ctl):
    directory = str(lab_dir / "cli")
    code, out, err = await run_migtui("lab", "up", "--dir", directory, "--vms", "2", "--dirty-rate", "0,8")
    try:
        assert code == 0, err
        inventory = load_inventory(Path(directory) / "inventory.toml")
        assert [vm.name for vm in inventory.vm] == ["vm1", "vm1-dst", "vm2", "vm2-dst"]
        async with ctl(Path(directory) / "vm1-dst.ctl.qmp") as destination:
            assert (await destination.execute("query-status"))["status"] == "inmigrate"

        code, out, err = await run_migtui("lab", "status", "--dir", directory)
        assert code == 0, err
        lines = {line.split()[0]: line for line in out.splitlines()}
        assert all(" alive " in lines[name] for name in ("vm1", "vm1-dst", "vm2", "vm2-dst"))
        assert "running" in lines["supervisor"]
        state = json.loads((Path(directory) / "lab-state.json").read_text())
        pids = [vm["pid"] for vm in state["vms"]] + [state["supervisor_pid"]]

        code, out, err = await run_migtui("lab", "up", "--dir", directory)
        assert code == 1 and "already runs" in err and "Traceback" not in err
    finally:
        code, out, err = await run_migtui("lab", "down", "--dir", directory)
    assert code == 0, err
    assert "stopped 4 VMs" in out
    assert not any(running(pid) for pid in pids)
    code, out, err = await run_migtui("lab", "status", "--dir", directory)
    assert code == 3 and out.count(" dead ") == 4


async def test_lab_cli_refuses_wrong_values_in_one_line():
    code, _, err = await run_migtui("lab", "up", "--dir", "/tmp/unused", "--vms", "2", "--dirty-rate", "1,2,3")
    assert code == 1 and err.strip() == "migtui: --dirty-rate: 3 values for 2 VMs (give one, or one per VM)"


async def test_lab_cli_on_a_directory_it_cannot_create_is_one_line(tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a directory\n")
    code, out, err = await run_migtui("lab", "up", "--dir", str(in_the_way / "lab"), "--vms", "1")
    assert (code, err) == (1, f"migtui: cannot use {in_the_way / 'lab'} as the lab directory: "
                              f"Not a directory ({in_the_way / 'lab'})\n")
    code, out, err = await run_migtui("lab", "up", "--dir", str(in_the_way), "--vms", "1")
    assert (code, err) == (1, f"migtui: cannot use {in_the_way} as the lab directory: it is a file\n")
    code, out, err = await run_migtui("lab", "status", "--dir", str(in_the_way / "lab"))
    assert code == 1 and err.startswith("migtui: no lab in ") and "Traceback" not in err


OWNER = textwrap.dedent(
    """
    import asyncio, json, sys
    from migtui.lab import Lab

    async def main():
        async with Lab(sys.argv[1]) as lab:
            pairs = await lab.up(n=1, dirty_mib=4, dirty_rate_mib_s=0)
            print(json.dumps([vm.pid for pair in pairs for vm in pair]), flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_killing_the_owner_with_sigkill_leaves_no_orphan_qemu(lab_dir):
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER, str(lab_dir), stdout=asyncio.subprocess.PIPE
    )
    try:
        pids = json.loads(await asyncio.wait_for(owner.stdout.readline(), 60))
        assert len(pids) == 2 and all(running(pid) for pid in pids)
    finally:
        owner.send_signal(signal.SIGKILL)  # no cleanup code runs: only the kernel's PDEATHSIG
        await owner.wait()
    await until(lambda: not any(running(pid) for pid in pids), 10, "the QEMUs to die with their owner")
