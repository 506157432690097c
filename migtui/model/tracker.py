"""Follows one VM's migrations sample by sample.

It turns raw ``query-migrate`` answers into :class:`Sample` values, keeps
them in a bounded history, tells a new migration from the previous one, keeps
the progress figure monotonic, and notices a stall: QEMU never fails a
migration that cannot converge, it stays ``active`` forever, so the passes go
on while the remaining bytes at the start of each pass do not shrink.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from migtui.model.history import History
from migtui.model.sample import FINAL_STATES, MigrationInfo, Sample

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
    _pass_starts: dict[int, int] = field(default_factory=dict)
    _last_status: str = "none"
    migration_count: int = 0
    """Migrations seen starting since migtui connected."""

    def add(self, answer: dict[str, Any] | MigrationInfo, at: float | None = None,
            wall: float | None = None) -> Sample:
        info = answer if isinstance(answer, MigrationInfo) else MigrationInfo.parse(answer)
        if self._starts_new_migration(info.status):
            self._best_progress = 0.0
            self._pass_starts.clear()
            self.migration_count += 1
        self._last_status = info.status
        progress = self._progress(info)
        if info.ram and info.ram.dirty_sync_count not in self._pass_starts:
            self._pass_starts[info.ram.dirty_sync_count] = info.ram.remaining
        sample = Sample(
            vm=self.vm,
            at=time.monotonic() if at is None else at,
            wall=time.time() if wall is None else wall,
            info=info,
            progress=progress,
        )
        self.history.append(sample)
        return sample

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
        """True when the last STALL_PASSES passes did not shrink what is left to send."""
        latest = self.history.latest
        if latest is None or not latest.active or len(self._pass_starts) <= STALL_PASSES:
            return False
        passes = sorted(self._pass_starts)[-(STALL_PASSES + 1):]
        first = self._pass_starts[passes[0]]
        best_since = min(self._pass_starts[p] for p in passes[1:])
        return first > 0 and best_since > first * STALL_SHRINK
