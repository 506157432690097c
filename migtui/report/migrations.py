"""Telling a VM's recorded migrations apart, from the status of its samples.

A migration starts with the first sample in a running status after an idle
or final one and ends with its final samples (completed, failed,
cancelled): QEMU says "completed" a moment before it has worked out the
downtime, so the last of them, not the first, holds the migration's figures.
A snapshot job's answer, which QEMU reports as "completed" too, ends no
migration and joins none. A recorder that was down in between leaves a gap,
not a split: the status carries on where it left off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migtui.model.sample import MigrationInfo, Sample
from migtui.model.status import FINAL_STATES
from migtui.model.tracker import MigrationTracker
from migtui.record.reader import RecordedSample, Recording
from migtui.record.schema import RecordingError


@dataclass
class RecordedMigration:
    vm: str
    number: int
    """1 for the VM's first recorded migration."""
    rows: list[RecordedSample] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    """The rows as samples (progress and all), timed by the wall clock."""

    @property
    def start(self) -> float:
        return self.rows[0].wall

    @property
    def end(self) -> float:
        last = self.rows[-1]
        return last.wall

    @property
    def final(self) -> str | None:
        status = self.rows[-1].status
        return status if status in FINAL_STATES else None


def migrations_of(recording: Recording, vm: str) -> list[RecordedMigration]:
    found: list[RecordedMigration] = []
    tracker = MigrationTracker(vm)
    previous = "none"
    current: RecordedMigration | None = None
    for row in recording.iter_samples(vm):
        status = row.status
        starts = (previous == "none" or previous in FINAL_STATES) and status not in FINAL_STATES | {"none"}
        if starts:
            current = RecordedMigration(vm, len(found) + 1)
            found.append(current)
        info = MigrationInfo.parse(row.answer)
        if current is not None and (starts or current.final is None
                                    or (status == current.final and not info.looks_like_snapshot)):
            at = max(row.wall, tracker.history.latest.at) if tracker.history.latest else row.wall
            current.rows.append(row)
            current.samples.append(tracker.add(info, at=at, wall=row.wall))
        previous = status
    return found


def choose(recording: Recording, vm: str | None, number: int | None) -> RecordedMigration:
    """The migration a report is about: ``number`` of ``vm`` (default: the last one migrating out)."""
    names = [vm] if vm else list(recording.vms)
    if vm:
        recording.vm_id(vm)  # an unknown name fails with the recorded ones
    candidates = []
    for name in names:
        migrations = migrations_of(recording, name)
        if vm is None:
            migrations = [m for m in migrations if not is_incoming(recording, m)]
        candidates.append((name, migrations))
    if number is not None:
        if vm is None and len(recording.vms) > 1:
            raise RecordingError("--migration N needs --vm NAME: numbers count each VM's migrations")
        name, migrations = candidates[0]
        if not 1 <= number <= len(migrations):
            raise RecordingError(f"{name} has {len(migrations)} recorded migration(s); no number {number}")
        return migrations[number - 1]
    every = [m for _, migrations in candidates for m in migrations]
    if not every:
        raise RecordingError(f"{recording.path}: no migration recorded" + (f" of {vm}" if vm else ""))
    return max(every, key=lambda m: m.start)


def is_incoming(recording: Recording, migration: RecordedMigration) -> bool:
    """Whether the VM was the destination: it waited in ``inmigrate`` when the migration began."""
    before = recording.entries(migration.vm, ["run-state"], until=migration.start, newest=1)
    return bool(before) and before[0].data.get("run_state") == "inmigrate"
