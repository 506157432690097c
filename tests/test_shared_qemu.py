"""Shared QMP links against real QEMU: migtui watches a socket another tool owns.

The owning tool (tests/qmp_owner.py) connects for each batch and closes at
once, as Proxmox VE's qemu-server does; migtui must never make it wait long,
and must still see every migration the owner runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator

import pytest

from cli_process import started_cli
from fake_qmp import FakeQMPServer
from migtui.lab.control import free_migration_uri
from qmp_owner import batch, holding, owner_loop
from waiting import until
from watch_lines import Lines, stop

pytestmark = pytest.mark.qemu
MiB = 1 << 20


@contextlib.contextmanager
def watching(*vms, shared: bool, interval: float = 0.5, extra: list[str] = (),
             as_json: bool = False) -> Iterator[tuple[subprocess.Popen[bytes], Lines]]:
    """``migtui watch`` of the lab's ``vms`` (and the ``NAME=ADDR`` pairs ``extra``); ``as_json``:
    every sample is a line (the text prints an idle VM's line only when it changes)."""
    argv = ["watch", "--interval", str(interval), *(["--json"] if as_json else [])]
    for pair in [*(f"{vm.name}={vm.qmp_path}" for vm in vms), *extra]:
        argv += ["--vm", pair]
    if shared:
        argv.append("--shared")
    with started_cli(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        yield process, Lines(process)


async def migrate_by_owner(src, dst, bandwidth: int) -> None:
    """The owner starts a migration through the VMs' own (shared) sockets, a batch each."""
    uri = free_migration_uri()
    await batch(dst.qmp_path, ("migrate-incoming", {"uri": uri}))
    await batch(src.qmp_path, ("migrate-set-parameters", {"max-bandwidth": bandwidth, "downtime-limit": 100}),
                ("migrate", {"uri": uri}))


async def test_the_owner_never_waits_while_migtui_follows_a_whole_migration(lab, ctl):
    # 16 MiB written, 4 MiB/s dirtied again, sent at 12 MiB/s: a few passes over about two seconds.
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=4)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)  # the guest's range written once: passes to come
    with watching(src, dst, shared=True) as (process, lines):
        await until(lambda: lines.of("vm1", "none") and lines.of("vm1-dst", "none"), 30, "a first sample of both")
        async with owner_loop(src.qmp_path) as owner:
            await migrate_by_owner(src, dst, 12 * MiB)
            await until(lambda: "completed" in lines.statuses("vm1"), 120, "migtui to see the migration complete")
            # Its batches go on after the end (migtui polls slowly again): 25 of them in all.
            await until(lambda: owner.attempts >= 25, 20, "more of the owner's batches")
        await stop(process)
    statuses = lines.statuses("vm1")
    assert statuses[0] in ("setup", "active") and statuses[-1] == "completed", lines.seen
    assert "active" in statuses, lines.seen
    passes = [int(line.rsplit(" ", 1)[1]) for line in lines.of("vm1", "MIGRATION_PASS")]
    assert len(passes) >= 2 and passes == sorted(passes), lines.seen
    assert lines.of("vm1", "completed  pass"), lines.seen  # the final sample, with its figures
    assert owner.failures == [], owner.failures
    assert owner.p99() < 0.25, sorted(owner.waits)[-5:]


async def test_a_held_socket_blocks_the_owner(lab):
    # The same owner beside a migtui that holds the socket: this is what shared links are for.
    vm = await lab.start_source("vm1", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
    with watching(vm, shared=False) as (process, lines):
        await until(lambda: lines.of("vm1", "none"), 30, "a first sample")
        async with owner_loop(vm.qmp_path) as owner:
            await until(lambda: owner.attempts >= 2, 10, "two of the owner's batches")
        await stop(process)
    assert owner.waits == [] and len(owner.failures) >= 2, (owner.waits, owner.failures)


async def test_migrations_the_owner_starts_cancels_and_completes_are_told_in_order(lab, ctl):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=32, dirty_rate_mib_s=64)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)
    with watching(src, shared=True) as (process, lines):
        await until(lambda: lines.of("vm1", "none"), 30, "a first sample")
        # Slow enough never to end on its own: the owner cancels it once migtui has seen it run.
        await migrate_by_owner(src, dst, 1 * MiB)
        await until(lambda: "active" in lines.statuses("vm1"), 30, "migtui to see the migration run")
        old_dst = dst.pid
        await batch(src.qmp_path, ("migrate_cancel", None))
        await until(lambda: "cancelled" in lines.statuses("vm1"), 30, "migtui to see the cancellation")
        dst = await lab.wait_restarted("vm1-dst", old_dst)  # a destination whose migration failed exits
        await migrate_by_owner(src, dst, 1 << 30)
        await until(lambda: "completed" in lines.statuses("vm1"), 60, "migtui to see the second one complete")
        await stop(process)
    told = [status for status in lines.statuses("vm1") if status in ("active", "cancelled", "completed")]
    assert told == ["active", "cancelled", "active", "completed"] or told == ["active", "cancelled", "completed"], \
        lines.seen


async def test_a_socket_held_10_s_is_busy_then_followed_again_and_faults_stay_with_their_vm(lab, lab_dir):
    held = await lab.start_source("held", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
    other = await lab.start_source("other", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
    gone = await lab.start_source("gone", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
    def links(vm: str) -> list[str]:
        return [told["link"] for told in lines.objects(vm) if "link" in told]

    def samples(vm: str, since: int = 0) -> list[dict]:
        return [told for told in lines.objects(vm, since) if "sample" in told]

    noise_socket = f"noise={lab_dir / 'noise.sock'}"
    async with FakeQMPServer(lab_dir / "noise.sock", "garbage"):
        with watching(held, other, gone, shared=True, extra=[noise_socket], as_json=True) as (process, lines):
            await until(lambda: all(samples(vm) for vm in ("held", "other", "gone")), 30,
                        "a first sample of each QEMU")
            # The owner holds the socket for 10 s (a long batch, a backup's freeze).
            async with holding(held.qmp_path):
                await until(lambda: any(link.startswith("busy") for link in links("held")), 10,
                            "migtui to say the socket is busy")
                told_busy = len(lines.seen)
                # Meanwhile the socket of another VM disappears (its QEMU gone the way PVE removes it).
                gone.qmp_path.unlink()
                await asyncio.sleep(10)  # the owner's hold: the scenario, not a wait for a state
                during = samples("other", told_busy)
            await until(lambda: links("held")[-1:] == ["connected"], 15, "migtui to follow the socket again")
            back = len(lines.seen)
            await until(lambda: samples("held", back), 15, "a sample of the held VM after the owner let go")
            await until(lambda: any(link.startswith("disconnected") for link in links("gone")), 15,
                        "migtui to say the socket is gone")
            await stop(process)
    assert links("held") == ["connected", "busy (another client holds it)", "connected"], lines.seen
    assert len(during) >= 10, during  # the rest went on
    assert links("gone") == ["connected", f"disconnected (QMP socket {gone.qmp_path} does not exist)"], \
        lines.seen
    noise = links("noise")
    assert len(noise) == 1 and "did not speak QMP" in noise[0], lines.seen  # watch's end is no news of it
    assert not samples("noise"), lines.seen
