"""Follows one VM's migrations sample by sample.

It turns raw ``query-migrate`` answers into :class:`Sample` values, keeps
them in a bounded history, tells a new migration from the previous one (and
from a snapshot job, which QEMU reports through ``query-migrate`` too), keeps
the progress figure monotonic, logs each pass's dirty set (``passes.py``),
and notices a stall: QEMU never fails a migration that cannot converge, it
stays ``active`` forever, so the passes go on while what the guest dirties
per pass does not shrink.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from migtui.model.history import History
from migtui.model.passes import PassLog
from migtui.model.sample import MigrationInfo, Sample
from migtui.model.status import FINAL_STATES, STREAMING_STATES

STALL_PASSES = 4
"""Passes whose starting remaining bytes are compared to call a stall."""
STALL_SHRINK = 0.9
"""A migration that keeps more than this share of its remaining bytes over
STALL_PASSES passes is not getting anywhere."""


@dataclass
class MigrationTracker:
    vm: str
    history: History[Sample] = field(default_factory=lambda: History(3600))
    _best_progress: float = 0.0
    passes: PassLog = field(default_factory=PassLog)
    """The current (or last) migration's passes."""
    _last_status: str = "none"
    migration_count: int = 0
    """Migrations seen starting since migtui connected."""
    _moved_at: float | None = None
    """When the active migration's transferred bytes last grew (None: no active migration)."""
    _transferred: int = -1

    def add(self, answer: dict[str, Any] | MigrationInfo, at: float | None = None,
            wall: float | None = None, snapshot: bool = False) -> Sample:
        """One ``query-migrate`` answer; ``snapshot``: a snapshot job runs (its figures are not a migration's)."""
        info = answer if isinstance(answer, MigrationInfo) else MigrationInfo.parse(answer)
        at = time.monotonic() if at is None else at
        snapshot = snapshot or info.looks_like_snapshot
        progress = None
        if not snapshot:
            if self._starts_new_migration(info.status):
                self._best_progress = 0.0
                # Seen first past its first pass: migtui attached to a migration already running.
                self.passes.clear(info.ram.dirty_sync_count if info.ram and info.status == "active" else None)
                self.migration_count += 1
            self._last_status = info.status
            self._follow_transfer(info, at)
            progress = self._progress(info)
            if info.ram and info.status in ("active", "pre-switchover"):
                self.passes.add(info.ram.dirty_sync_count, info.ram.remaining, at)
        sample = Sample(
            vm=self.vm,
            at=at,
            wall=time.time() if wall is None else wall,
            info=info,
            snapshot=snapshot,
            progress=progress,
        )
        self.history.append(sample)
        return sample

    def _follow_transfer(self, info: MigrationInfo, at: float) -> None:
        # As the prediction's no-progress (convergence.sent_nothing_for): "active" and "postcopy-active"
        # count (in postcopy the source sends the pages asked for and the rest in the background);
        # pre-switchover waits for migrate-continue on purpose, a paused postcopy says so itself.
        if info.status not in STREAMING_STATES or info.ram is None:
            self._moved_at, self._transferred = None, -1
        elif info.ram.transferred != self._transferred or self._moved_at is None:
            self._moved_at, self._transferred = at, info.ram.transferred

    def frozen_for(self, now: float | None = None) -> float:
        """Seconds an active migration (precopy or postcopy) has sent nothing (0 when it moves or none runs).

        QEMU keeps a migration whose link is down ``active`` (or ``postcopy-active``)
        with its counters standing still and reports no error: this is the only sign of it.
        """
        if self._moved_at is None:
            return 0.0
        return max(0.0, (time.monotonic() if now is None else now) - self._moved_at)

    def _starts_new_migration(self, status: str) -> bool:
        was_idle = self._last_status == "none" or self._last_status in FINAL_STATES
        return was_idle and status not in FINAL_STATES and status != "none"

    def _progress(self, info: MigrationInfo) -> float | None:
        ram = info.ram
        if ram is None or ram.total <= 0:
            return None if info.status != "completed" else 1.0
        if info.status == "completed":
            self._best_progress = 1.0
        else:
            done = 1.0 - min(ram.remaining, ram.total) / ram.total
            self._best_progress = max(self._best_progress, done)
        return self._best_progress

    @property
    def stalled(self) -> bool:
        """True when the last STALL_PASSES passes did not shrink what the guest dirties per pass.

        The smallest dirty set since is compared to the one STALL_PASSES ago
        (a windowed minimum, as KubeVirt's stall detector does), so one short
        pass does not hide a stall.
        """
        latest = self.history.latest
        sets = self.passes.dirty_sets(STALL_PASSES + 1)
        if latest is None or not latest.active or len(sets) <= STALL_PASSES:
            return False
        return sets[0] > 0 and min(sets[1:]) > sets[0] * STALL_SHRINK
