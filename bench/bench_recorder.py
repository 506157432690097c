"""What recording costs: size on disk and CPU, extrapolated to a day of 50 VMs at 1 Hz.

One lab VM is polled at 50 Hz (as many samples a second as 50 VMs at 1 Hz),
first by the fleet engine alone, then by the engine with the recorder
attached (samples, events, predictions, batched into one transaction a
second), alternating to even out the machine's noise. A migration that
never converges keeps every sample different (the worst case for size); an
idle VM shows how repeats fold. Goals: under 200 MB a day for 50 VMs;
engine with recorder within 1.2x the engine alone.

Samples are stored as differences from the VM's previous one, and those are
50 times smaller at 50 Hz than at 1 Hz: so the migrating size is also
measured as 50 VMs seen at 1 Hz, each sample of the 50 Hz stream going to
the one of 50 VMs whose last sample is oldest (once a second is due): real
answers of a real migration, a second apart per VM, as a fleet gives them.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import tempfile
import time
from pathlib import Path

from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.session import VMSession
from migtui.qmp.updates import SampleTaken
from migtui.record.reader import Recording
from migtui.record.writer import Recorder

HZ = 50
SECONDS = 12.0
DAY_SAMPLES = 50 * 86400
FLEET_SECONDS = 60.0
"""How long the 50 VMs at 1 Hz are recorded (each VM's samples then fill a block of that many)."""
MIGRATING_HOURS = 1.0
"""For the 'typical' day: each VM migrates (every sample different) this long, and idles the rest."""


async def measure(entry: VMEntry, db: Path | None) -> tuple[float, int]:
    """CPU seconds per sample of the engine (with a recorder into ``db`` if given), and the samples taken."""
    fleet = Fleet([entry], fast=1 / HZ, slow=1 / HZ)
    samples = 0

    def count(update: object) -> None:
        nonlocal samples
        samples += isinstance(update, SampleTaken)

    fleet.subscribe(count)
    async with fleet:
        await fleet.wait_connected(10)
        recorder = Recorder(db, fleet) if db else None
        if recorder:
            recorder.start()
        await asyncio.sleep(1)  # settle: the first answers, the settings
        samples, cpu = 0, time.process_time()
        await asyncio.sleep(SECONDS)  # the measuring window
        spent, taken = time.process_time() - cpu, samples
        if recorder:
            await recorder.close()  # its last flush is part of its cost
            spent = time.process_time() - cpu
        return spent / taken, taken


async def record_as_a_fleet(entry: VMEntry, db: Path) -> None:
    """Record the one VM as 50 VMs each sampled once a second (see the module's docstring)."""
    fleet = Fleet([entry], fast=1 / HZ, slow=1 / HZ)
    async with fleet:
        await fleet.wait_connected(10)
        recorder = Recorder(db, fleet)
        names = [f"vm{i:02}" for i in range(50)]
        last = dict.fromkeys(names, 0.0)

        def spread(update: object) -> None:
            if isinstance(update, SampleTaken):
                name = min(names, key=last.__getitem__)
                if update.sample.at - last[name] >= 1.0:
                    last[name] = update.sample.at
                    recorder(SampleTaken(name, update.sample.model_copy(update={"vm": name})))

        fleet.subscribe(spread)  # the recorder is not subscribed (no start()): it hears only the spread samples
        for _ in range(int(FLEET_SECONDS)):
            await asyncio.sleep(1.0)
            recorder.flush()
        await recorder.close()


def size_per_sample(db: Path) -> tuple[float, int]:
    """Bytes each sample adds to the file (beyond what an empty recording takes), and the samples."""
    with Recording(db) as recording:
        samples = sum(1 + s.repeats for s in recording.iter_samples())
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The tables' and indexes' first pages are there whatever was recorded: count pages in use beyond those.
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'index')").fetchone()[0]
    pages, size, free = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size", "freelist_count"))
    conn.close()
    return (pages - free - tables - 1) * size / samples, samples


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="migtui-bench-") as directory:
        root = Path(directory)
        async with Lab(root / "lab") as lab:
            src = await lab.start_source("vm1", mem_mib=128, dirty_mib=64, dirty_rate_mib_s=math.inf)
            dst = await lab.start_destination("vm1-dst", like=src)
            async with VMSession("vm1", str(src.ctl_path)) as s, VMSession("vm1-dst", str(dst.ctl_path)) as d:
                await start_migration(s, d, MigrationPlan({"max-bandwidth": 4 << 20}))  # stays active
            entry = VMEntry(name="vm1", qmp=str(src.qmp_path))
            alone, recorded = [], []
            for round_ in range(2):
                alone.append((await measure(entry, None))[0])
                recorded.append((await measure(entry, root / f"active{round_}.db"))[0])
            active_bytes, active_n = size_per_sample(root / "active1.db")
            await record_as_a_fleet(entry, root / "fleet.db")
            fleet_bytes, fleet_n = size_per_sample(root / "fleet.db")
            idle = await lab.start_source("idle", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
            await measure(VMEntry(name="idle", qmp=str(idle.qmp_path)), root / "idle.db")
            idle_bytes, idle_n = size_per_sample(root / "idle.db")

    engine, with_recorder = sum(alone) / len(alone), sum(recorded) / len(recorded)
    day = DAY_SAMPLES
    share = MIGRATING_HOURS / 24
    print(f"samples per second   : {HZ} (one VM polled at {HZ} Hz = 50 VMs at 1 Hz)")
    print(f"engine alone         : {engine * 1e6:7.0f} us CPU per sample")
    print(f"engine + recorder    : {with_recorder * 1e6:7.0f} us CPU per sample")
    print(f"ratio                : {with_recorder / engine:7.2f}x   (goal <= 1.2x)")
    print(f"recorder at 50 VMs x 1 Hz: {(with_recorder - engine) * 50:6.1%} of one core")
    print(f"bytes per sample     : {fleet_bytes:7.1f} migrating, 50 VMs at 1 Hz ({fleet_n} samples), "
          f"{active_bytes:5.1f} migrating at {HZ} Hz ({active_n} samples), "
          f"{idle_bytes:5.1f} idle ({idle_n} samples, repeats folded)")
    print(f"a day of 50 VMs, 1 Hz: {fleet_bytes * day / 1e6:7.0f} MB all migrating all day, "
          f"{idle_bytes * day / 1e6:5.1f} MB all idle, "
          f"{(fleet_bytes * share + idle_bytes * (1 - share)) * day / 1e6:5.0f} MB migrating "
          f"{MIGRATING_HOURS:g} h each   (goal < 200 MB: {fleet_bytes * day / 200e6:.2f} of it at worst)")


if __name__ == "__main__":
    asyncio.run(main())
