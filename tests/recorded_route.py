"""A real lab migration recorded the way the dashboard with ``--record`` records one.

The fleet starts it, so the recording holds its ``migrate`` (where it went)
beside its samples. Returns what the recording process itself saw the
migration reach (the path finder's live figure, by the same rule a reader of
the recording uses), for a later process's figure to be checked against.
"""

from __future__ import annotations

import socket
from functools import partial
from pathlib import Path

from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.lab.control import ControlClient
from migtui.lab.trial import MiB
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.record.writer import Recorder
from waiting import until

LOOPBACK_ROUTE = (socket.gethostname(), "127.0.0.1")
"""A lab VM of this machine migrating to another: the recording's route (the source's place, the destination)."""


async def record_a_migration(lab: Lab, db: Path, name: str = "rec") -> float:
    """Migrate a fresh lab VM to a fresh destination while recording into ``db``; what it reached (bytes/s)."""
    # 48 MiB written slowly behind a 16 MiB/s cap: about 3 s of sending, 15 readings at 0.2 s, then it converges.
    src = await lab.start_source(name, mem_mib=128, dirty_mib=48, dirty_rate_mib_s=2)
    dst = await lab.start_destination(f"{name}-dst", like=src)
    async with await ControlClient.connect(src.ctl_path) as client:
        await client.wait_guest(passes=1, timeout=60)  # zero pages cost nothing: send written ones
    fleet = Fleet([VMEntry(name=vm.name, qmp=str(vm.qmp_path)) for vm in (src, dst)], fast=0.2)
    async with fleet, Recorder(db, fleet):
        await fleet.wait_connected(15)
        state = fleet.states[name]
        plan = MigrationPlan({"max-bandwidth": 16 * MiB, "downtime-limit": 300})
        await fleet.change(name, partial(start_migration, target=fleet.session(f"{name}-dst"), plan=plan),
                           also=[f"{name}-dst"])
        await until(lambda: state.latest.status == "completed", 90, "the recorded migration to complete")
        seen = fleet.paths.best.get(LOOPBACK_ROUTE)
    await lab.stop(dst.name)
    await lab.stop(src.name)
    assert seen is not None, "the recording process saw no figure of its own"
    return seen
