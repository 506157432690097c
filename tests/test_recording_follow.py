"""``replay --follow``: a second viewer of a fleet that one recorder holds, live.

The recorder runs in this process on a real lab migration, with the fleet's
own gate, so the audit entries of the commands it sends land in the
recording too; the follower reads the file as ``migtui replay --follow`` does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from migtui.inventory import VMEntry
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.record.reader import Recording
from migtui.record.replay import ReplayFleet
from migtui.record.writer import Recorder
from migtui.replay_app import ReplayApp
from waiting import settle, until

pytestmark = pytest.mark.qemu
MiB = 1 << 20


def newest_vm1_sample(db: Path) -> tuple[int, int] | None:
    """(id, wall_ms) of vm1's newest committed sample, read by a reader of its own."""
    if not db.exists():
        return None
    with Recording(db) as recording:
        if "vm1" not in recording.vms:
            return None
        newest = recording.samples("vm1", newest=1)
        return (newest[0].id, round(newest[0].wall * 1000)) if newest else None


async def test_follow_shows_a_sample_within_two_seconds_of_its_writing_and_audit_entries_are_recorded(
        lab, ctl, tmp_path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)
    db, audit_path = tmp_path / "live.db", tmp_path / "audit.jsonl"
    fleet = Fleet([VMEntry(name=v.name, qmp=str(v.qmp_path)) for v in (src, dst)],
                  CommandGate(AuditLog(audit_path)), fast=0.2)
    async with fleet, Recorder(db, fleet):
        await fleet.wait_connected(10)
        # 8 MiB/s of dirtying against 4 MiB/s: it stays active while we look.
        await start_migration(fleet.sessions["vm1"], fleet.sessions["vm1-dst"],
                              MigrationPlan({"max-bandwidth": 4 * MiB}))
        await until(lambda: newest_vm1_sample(db) is not None, 10, "a committed vm1 sample")
        recording = Recording(db)
        app = ReplayApp(ReplayFleet(recording, follow=True), name=db.name)
        async with app.run_test(size=(120, 40)) as pilot:
            seen = newest_vm1_sample(db)
            await settle(pilot, lambda: newest_vm1_sample(db)[0] != seen[0], 10, "a new sample written")
            written_at, (_, wall_ms) = time.monotonic(), newest_vm1_sample(db)
            latest = lambda: app.fleet.states["vm1"].latest  # noqa: E731
            await settle(pilot, lambda: latest() is not None and round(latest().wall * 1000) >= wall_ms, 5,
                         "the follower to show it")
            assert time.monotonic() - written_at < 2.0
            assert latest().status == "active" and "following" in app.title
        recording.close()
        await fleet.session("vm1").execute("migrate_cancel")
    # The gate's audit log is as it always was, and each of its entries is in the recording.
    logged = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert set(logged[0]) >= {"time", "vm", "command", "arguments", "outcome"}
    with Recording(db) as done:
        recorded = [e.data for e in done.entries(kinds=["audit"])]
    assert [(e["vm"], e["command"], e["arguments"], e["outcome"]) for e in recorded] == \
        [(e["vm"], e["command"], e["arguments"], e["outcome"]) for e in logged]
    assert ("vm1", "migrate_cancel") in [(e["vm"], e["command"]) for e in recorded]

