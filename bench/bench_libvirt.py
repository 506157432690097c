"""CPU per sample of a libvirt fleet against a bare libvirt-python ``jobStats()`` loop on the same domains.

Two lab libvirt hosts; domains on hv1, one of them (web-1) in a live migration to
hv2 (capped, so that it stays active and its statistics carry real figures), the
others idle guests. Measured at two fleet sizes, 4 and 12 domains of the host.
migtui's fleet polls every domain at HZ; the bare loop is a thread calling
``dom.jobStats()`` for every domain at the same rate, on a connection of its
own, as a script of virt-manager's or Nova's kind does. Between the two, the
transport alone: the same jobStats() calls made as migtui makes them (the idle
domains' together in one worker a round, the migrating one's in a worker of its
own, libvirtaio on the event loop) and nothing done with their answers, which
tells how much of the difference is the transport and how much is migtui's own
work on a sample (its poller, the sample's model, the fleet's subscribers). The
cost of a sample is this process's CPU (every thread) plus the CPU of the
libvirtd daemons it talks to, over a window: fleet, transport, bare, twice, the
windows of each kind added up. Goal: migtui costs at most 1.3x the bare loop per
sample.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import libvirt

from migtui.inventory import load_inventory
from migtui.lab.libvirt_lab import LibvirtLab
from migtui.libvirt import workers
from migtui.libvirt.translate import migration_info
from migtui.ops import migrate
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan
from migtui.qmp.poller import next_tick
from migtui.qmp.updates import SampleTaken

HZ = 10
"""Polls per second of each domain (a migration's fast polling is 2 Hz: this is five times that)."""
WINDOW = 6.0
SIZES = (4, 12)
"""How many of hv1's domains the fleet and the loops watch."""
MIGRATING = "web-1"
TICK = os.sysconf("SC_CLK_TCK")


def daemon_cpu(pids: list[int]) -> float:
    """CPU seconds the processes used so far (user and system)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


SPLIT = {"process": 0.0, "daemons": 0.0}


async def window(pids: list[int], count: Callable[[], int]) -> tuple[float, int]:
    """(CPU seconds of this process and the daemons, samples) over one window."""
    before, daemons, samples = time.process_time(), daemon_cpu(pids), count()
    await asyncio.sleep(WINDOW)
    mine, theirs = time.process_time() - before, daemon_cpu(pids) - daemons
    print(f"   window: {count() - samples} samples, this process {mine * 1e3:.0f} ms, libvirtd {theirs * 1e3:.0f} ms")
    return mine + theirs, count() - samples


async def fleet_window(inventory_path: Path, names: list[str], pids: list[int]) -> tuple[float, int]:
    inventory = load_inventory(inventory_path)
    hosts = [host.model_copy(update={"domains": names}) if host.name == "hv1" else host for host in inventory.host]
    fleet = Fleet(inventory.vm, hosts=hosts, fast=1 / HZ, slow=1 / HZ)
    samples = 0

    def counted(update: object) -> None:
        nonlocal samples
        samples += isinstance(update, SampleTaken)

    fleet.subscribe(counted)
    async with fleet:
        assert fleet.domains is not None
        await fleet.domains.wait_listed(10)
        await fleet.wait_connected(10)
        await asyncio.sleep(1.0)  # past the first polls' settings reads
        return await window(pids, lambda: samples)


async def bare_window(uri: str, names: list[str], pids: list[int]) -> tuple[float, int]:
    conn = await asyncio.to_thread(libvirt.open, uri)
    domains = [conn.lookupByName(name) for name in names]
    stop, calls = threading.Event(), [0]

    def loop() -> None:
        while not stop.wait(1 / HZ):
            for domain in domains:
                domain.jobStats()
                calls[0] += 1

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        await asyncio.sleep(1.0)
        return await window(pids, lambda: calls[0])
    finally:
        stop.set()
        await asyncio.to_thread(worker.join)
        domains.clear()
        conn.close()


async def transport_window(uri: str, names: list[str], pids: list[int]) -> tuple[float, int]:
    """jobStats() of every domain at HZ, called as migtui calls libvirt, its answers dropped."""
    conn = await workers.run(libvirt.open, uri)
    domains = [await workers.run(conn.lookupByName, name) for name in names]
    calls, stop, idle = [0], asyncio.Event(), workers.Together()

    async def poll(domain: libvirt.virDomain, migrating: bool) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            await (workers.run(domain.jobStats) if migrating else idle.run(domain.jobStats))
            calls[0] += 1
            await asyncio.sleep(next_tick(loop.time(), 1 / HZ) - loop.time())

    pollers = [asyncio.create_task(poll(domain, name == MIGRATING))
               for name, domain in zip(names, domains, strict=True)]
    try:
        await asyncio.sleep(1.0)
        return await window(pids, lambda: calls[0])
    finally:
        stop.set()
        await asyncio.gather(*pollers)
        domains.clear()
        await workers.run(conn.close)


async def floor_window(uri: str, names: list[str], pids: list[int]) -> tuple[float, int]:
    """One task for the host: each tick, the idle domains' jobStats in one worker, the migrating one's in a
    worker of its own, each answer translated into ``query-migrate``'s words and nothing more."""
    conn = await workers.run(libvirt.open, uri)
    domains = {name: await workers.run(conn.lookupByName, name) for name in names}
    calls, stop, idle = [0], asyncio.Event(), workers.Together()

    async def tick() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            for answer in [workers.run(domain.jobStats) if name == MIGRATING else idle.run(domain.jobStats)
                           for name, domain in domains.items()]:
                migration_info(await answer)
                calls[0] += 1
            await asyncio.sleep(next_tick(loop.time(), 1 / HZ) - loop.time())

    task = asyncio.create_task(tick())
    try:
        await asyncio.sleep(1.0)
        return await window(pids, lambda: calls[0])
    finally:
        stop.set()
        await task
        domains.clear()
        await workers.run(conn.close)


async def measure(lab: LibvirtLab, inventory_path: Path, names: list[str], pids: list[int]) -> None:
    """The three kinds of window on these domains of hv1; prints the figures."""
    kinds = ("fleet", "transport", "floor", "bare")
    totals = {kind: [0.0, 0] for kind in kinds}
    for kind in kinds + kinds:
        if kind == "fleet":
            cpu, samples = await fleet_window(inventory_path, names, pids)
        elif kind == "transport":
            cpu, samples = await transport_window(lab.tcp_uri("hv1"), names, pids)
        elif kind == "floor":
            cpu, samples = await floor_window(lab.tcp_uri("hv1"), names, pids)
        else:
            cpu, samples = await bare_window(lab.tcp_uri("hv1"), names, pids)
        totals[kind][0] += cpu
        totals[kind][1] += samples
    fleet, transport, floor, bare = (totals[kind][0] / max(totals[kind][1], 1) for kind in kinds)
    print(f"{len(names)} domains (one migrating) at {HZ} Hz, {2 * WINDOW:g} s each way, this process + libvirtd")
    print(f"migtui's fleet   : {fleet * 1e6:7.0f} us CPU per sample ({totals['fleet'][1]} samples)")
    print(f"the transport    : {transport * 1e6:7.0f} us CPU per call "
          f"({totals['transport'][1]} calls: worker threads, libvirtaio)")
    print(f"one task a host  : {floor * 1e6:7.0f} us CPU per answer ({totals['floor'][1]} answers translated, "
          f"{floor / bare:.2f}x bare: the floor of a design with every call off the loop)")
    print(f"bare jobStats()  : {bare * 1e6:7.0f} us CPU per sample ({totals['bare'][1]} samples)")
    print(f"ratio            : {fleet / bare:7.2f}x   (goal <= 1.3x)")
    print(f"of which         : transport {transport / bare:.2f}x bare, migtui's work {fleet / transport:.2f}x "
          "the transport")


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="migtui-bench-") as directory:
        async with LibvirtLab(directory) as lab:
            await lab.start_hosts(2)
            names = [f"web-{n}" for n in range(1, max(SIZES) + 1)]
            for name in names:
                busy = name == MIGRATING  # the others idle: their guests' dirtying would load the machine
                await lab.define_domain("hv1", name, mem_mib=128, dirty_mib=16 if busy else 1,
                                        dirty_rate_mib_s=32 if busy else 1)
            inventory_path = lab.write_inventory(Path(directory) / "inventory.toml", transport="tcp")
            pids = [host.libvirtd.pid for host in lab.hosts.values() if host.libvirtd is not None]
            inventory = load_inventory(inventory_path)
            async with Fleet(inventory.vm, hosts=inventory.host) as starter:  # a migration that stays active
                assert starter.domains is not None
                await starter.domains.wait_listed(10)
                await starter.wait_connected(10)
                await starter.change(MIGRATING, lambda source: migrate.start(source, "hv2", MigrationPlan(
                    {"max-bandwidth": 4 << 20})))
            for size in SIZES:
                await measure(lab, inventory_path, names[:size], pids)
                print()


if __name__ == "__main__":
    libvirt.registerErrorHandler(lambda *_: None, None)
    asyncio.run(main())
