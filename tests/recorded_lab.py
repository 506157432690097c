"""A recording of a real lab migration, made the way an admin makes one:
``migtui record`` in a subprocess, killed with SIGKILL mid-migration and
started again on the same file. Shared by the recorder, report and replay tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migtui.lab import Lab
from migtui.lab.control import ControlClient
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.session import VMSession
from migtui.record.reader import Recording
from migtui.record.schema import RecordingError
from waiting import until, until_true

MiB = 1 << 20
# 8 MiB rewritten at 2.5 MiB/s against 4 MiB/s: about 8 passes in about 6 s, then it converges.
PLAN = {"max-bandwidth": 4 * MiB, "downtime-limit": 50}


@dataclass
class LabRecording:
    db: Path
    killed_at: float
    """time.time() just before the first recorder got SIGKILL."""
    final: dict[str, Any]
    """QEMU's own last query-migrate answer of the source, read beside migtui."""
    started_at: float


def recorded(db: Path, answer: dict[str, Any]) -> bool:
    """Whether the file holds a vm1 sample that is exactly ``answer``."""
    try:
        with Recording(db) as recording:
            return any(s.answer == answer for s in recording.samples("vm1"))
    except RecordingError:
        return False


def committed(db: Path, status: str | None = None) -> int:
    """How many vm1 samples (of ``status``) the file holds, read as another process would."""
    try:
        with Recording(db) as recording:
            return sum(1 for s in recording.samples("vm1") if status in (None, s.status))
    except RecordingError:
        return 0  # not created yet, or vm1 not in it yet


def recorder(db: Path, inventory: Path, directory: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "migtui", "record", "--db", str(db), "--config", str(inventory),
         "--interval", "0.2", "--audit-log", str(directory / "audit.jsonl")],
        stdout=subprocess.DEVNULL, stderr=open(directory / "recorder.log", "ab"))


async def record_a_migration(directory: Path) -> LabRecording:
    db = directory / "lab.db"
    running: list[subprocess.Popen] = []
    try:
        async with Lab(directory) as lab:
            src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=2.5)
            dst = await lab.start_destination("vm1-dst", like=src)
            inventory = lab.write_inventory(directory / "inventory.toml")
            async with await ControlClient.connect(src.ctl_path) as ctl:
                await ctl.wait_guest(passes=1, timeout=60)  # zero pages would cost nothing to migrate
            running.append(recorder(db, inventory, directory))
            await until(lambda: committed(db) > 0, 30, "the recorder's first sample")
            started_at = time.time()
            # Through the lab's second QMP sockets: the recorder holds the first ones.
            async with VMSession("vm1", str(src.ctl_path)) as source, VMSession("vm1-dst", str(dst.ctl_path)) as target:
                await start_migration(source, target, MigrationPlan(dict(PLAN)))
                await until(lambda: (committed(db, "active")) >= 3, 30,
                               "active samples committed")
                killed_at = time.time()
                running[0].send_signal(signal.SIGKILL)
                running[0].wait(10)
                running.append(recorder(db, inventory, directory))
                answers: list[Any] = [{}]

                async def settled() -> bool:
                    # QEMU says "completed" a moment before it has worked out the downtime: the final
                    # answer is the first completed one that the next poll repeats.
                    answers.append(await source.execute("query-migrate"))
                    return answers[-1].get("status") == "completed" and answers[-1] == answers[-2]

                await until_true(settled, 120, "the migration's final answer")
                final: dict[str, Any] = answers[-1]
            await until(lambda: recorded(db, final), 30, "the final answer committed")
            running[1].send_signal(signal.SIGTERM)
            running[1].wait(10)
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
    return LabRecording(db, killed_at, final, started_at)


def make_recording(directory: Path) -> LabRecording:
    os.makedirs(directory, exist_ok=True)
    return asyncio.run(record_a_migration(directory))
