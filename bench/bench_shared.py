"""CPU per sample of shared QMP links (a connection per poll) against held ones.

The same lab VMs (idle ones and one in a live migration, so that answers
carry real ``ram`` figures), polled by the fleet at the same rate, in the
same run: held, shared, held, shared, each for a window of the same length;
the two windows of each kind are added up. A shared link pays per poll what
a held one pays once: connecting, QEMU's greeting, ``qmp_capabilities``,
qemu.qmp's reader and writer tasks, the disconnect.
Goal: shared costs no more than 2x held per sample.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from pathlib import Path

from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.session import VMSession
from migtui.qmp.updates import SampleTaken

HZ = 10
"""Polls per second of each VM (a migration's fast polling is 2 Hz: this is five times that)."""
WINDOW = 6.0
IDLE_VMS = 4


async def cpu_per_sample(entries: list[VMEntry], seconds: float) -> tuple[float, int]:
    """(CPU seconds per sample, samples) of a fleet of ``entries`` over ``seconds``, once all are connected."""
    fleet = Fleet(entries, fast=1 / HZ, slow=1 / HZ)
    samples = 0

    def count(update: object) -> None:
        nonlocal samples
        samples += isinstance(update, SampleTaken)

    fleet.subscribe(count)
    async with fleet:
        await fleet.wait_connected(10)
        await asyncio.sleep(1.0)  # past the first polls' settings reads
        samples, cpu = 0, time.process_time()
        await asyncio.sleep(seconds)  # the measuring window
        return (time.process_time() - cpu) / max(samples, 1), samples


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="migtui-bench-") as directory:
        async with Lab(Path(directory)) as lab:
            src = await lab.start_source("vm1", mem_mib=128, dirty_mib=64, dirty_rate_mib_s=math.inf)
            dst = await lab.start_destination("vm1-dst", like=src)
            idle = [await lab.start_source(f"idle{i}", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
                    for i in range(1, IDLE_VMS + 1)]
            async with VMSession("vm1", str(src.qmp_path)) as s, VMSession("vm1-dst", str(dst.qmp_path)) as d:
                # a slow migration that stays active while we measure
                await start_migration(s, d, MigrationPlan({"max-bandwidth": 4 << 20}))
            vms = [src, dst, *idle]
            totals = {False: [0.0, 0], True: [0.0, 0]}
            for shared in (False, True, False, True):
                entries = [VMEntry(name=vm.name, qmp=str(vm.qmp_path), shared=shared) for vm in vms]
                per_sample, samples = await cpu_per_sample(entries, WINDOW)
                totals[shared][0] += per_sample * samples
                totals[shared][1] += samples
            held, shared_cost = (totals[kind][0] / totals[kind][1] for kind in (False, True))
            print(f"{len(vms)} VMs at {HZ} Hz, {2 * WINDOW:g} s each way")
            print(f"held links   : {held * 1e6:7.0f} us CPU per sample ({totals[False][1]} samples)")
            print(f"shared links : {shared_cost * 1e6:7.0f} us CPU per sample ({totals[True][1]} samples)")
            print(f"ratio        : {shared_cost / held:7.2f}x   (goal <= 2x)")


if __name__ == "__main__":
    asyncio.run(main())
