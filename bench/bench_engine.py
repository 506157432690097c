"""CPU the fleet engine spends per sample, against a bare qemu.qmp loop.

Both poll ``query-migrate`` at the same rate (100 Hz: a poll loop waits
between polls, and both pay that event-loop turn) on the same lab VM during
the same live migration, so the answers carry real ``ram`` figures; one after
the other in one run. Then the fleet's CPU with 8 lab VMs polled at 10 Hz each.
Goal: the engine costs no more than 1.3x the bare loop per sample.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from pathlib import Path

from qemu.qmp import QMPClient

from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.session import VMSession
from migtui.qmp.updates import SampleTaken

SAMPLES = 1500
INTERVAL = 0.01


async def bare_loop(socket: Path, count: int) -> float:
    client = QMPClient("bare")
    await client.connect(str(socket))
    try:
        start = time.process_time()
        for _ in range(count):
            await client.execute("query-migrate")
            await asyncio.sleep(INTERVAL)
        return (time.process_time() - start) / count
    finally:
        await client.disconnect()


async def fleet_loop(entry: VMEntry, count: int) -> float:
    fleet = Fleet([entry], fast=INTERVAL, slow=INTERVAL)
    taken = 0
    done = asyncio.Event()

    def count_sample(update: object) -> None:
        nonlocal taken
        if isinstance(update, SampleTaken):
            taken += 1
            if taken >= count:
                done.set()

    fleet.subscribe(count_sample)
    async with fleet:
        await fleet.wait_connected(10)
        start_taken, start = taken, time.process_time()
        await done.wait()
        return (time.process_time() - start) / (taken - start_taken)


async def fleet_cpu(entries: list[VMEntry], hz: float, seconds: float) -> tuple[float, int]:
    fleet = Fleet(entries, fast=1 / hz, slow=1 / hz)
    samples = 0

    def count(update: object) -> None:
        nonlocal samples
        samples += isinstance(update, SampleTaken)

    fleet.subscribe(count)
    async with fleet:
        await fleet.wait_connected(10)
        samples, cpu, wall = 0, time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)  # the measuring window
        return (time.process_time() - cpu) / (time.monotonic() - wall), samples


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="migtui-bench-") as directory:
        async with Lab(Path(directory)) as lab:
            src = await lab.start_source("vm1", mem_mib=128, dirty_mib=64, dirty_rate_mib_s=math.inf)
            dst = await lab.start_destination("vm1-dst", like=src)
            async with VMSession("vm1", str(src.qmp_path)) as s, VMSession("vm1-dst", str(dst.qmp_path)) as d:
                # a slow migration that stays active while we measure
                await start_migration(s, d, MigrationPlan({"max-bandwidth": 4 << 20}))
            # the bare loop uses the lab's second QMP socket of the same QEMU: same answers
            entry = VMEntry(name="vm1", qmp=str(src.qmp_path))
            bare = await bare_loop(src.ctl_path, SAMPLES)
            engine = await fleet_loop(entry, SAMPLES)
            print(f"bare qemu.qmp loop : {bare * 1e6:7.0f} us CPU per query-migrate")
            print(f"fleet engine       : {engine * 1e6:7.0f} us CPU per sample")
            print(f"ratio              : {engine / bare:7.2f}x   (goal <= 1.3x)")
            await lab.stop("vm1")
            await lab.stop("vm1-dst")

            vms = [await lab.start_source(f"idle{i}", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
                   for i in range(1, 9)]
            share, samples = await fleet_cpu([VMEntry(name=v.name, qmp=str(v.qmp_path)) for v in vms], 10, 10)
            print(f"8 VMs at 10 Hz     : {share:7.1%} of one core, {samples / 10:.0f} samples/s")


if __name__ == "__main__":
    asyncio.run(main())
