"""The metrics' count of migrations that ended, from the fleet's samples (no QEMU: samples are fed)."""

from __future__ import annotations

import time

from migtui.inventory import VMEntry
from migtui.metrics.collector import FleetCollector
from migtui.qmp.fleet import Fleet
from migtui.qmp.updates import SampleTaken

RAM = {"transferred": 1000, "remaining": 5000, "total": 134750208, "dirty-sync-count": 1, "page-size": 4096}


def test_a_snapshot_job_is_not_counted_as_a_migration():
    fleet = Fleet([VMEntry(name="vm1", qmp="/nonexistent/vm1.qmp")])  # never started
    collector = FleetCollector(fleet)
    tracker = fleet.states["vm1"].tracker
    for status, snapshot in (("active", True), ("completed", True), ("active", False), ("completed", False)):
        sample = tracker.add({"status": status, "ram": RAM}, at=time.monotonic(), snapshot=snapshot)
        collector(SampleTaken("vm1", sample))
    # The snapshot-save's answers count nothing; the migration after it counts once.
    assert dict(collector.outcomes) == {("vm1", "succeeded"): 1}
