"""What the model reads off a migration (the guest, the link) and the VM's settings that bear on it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

STEADY = 0.9
"""A pass that dirties more than this share of the pass before is not shrinking."""
SATURATED_READING = 0.85
"""QEMU's dirty rate at this share of the throughput or more follows the bandwidth, not the guest."""


@dataclass(frozen=True)
class MigrationSettings:
    """What the prediction needs to know of the VM's parameters and capabilities."""

    downtime_limit_ms: int = 300
    max_bandwidth: int | None = None
    auto_converge: bool = False
    postcopy_ram: bool = False
    throttle_initial: int = 20
    throttle_increment: int = 10
    max_throttle: int = 99
    avail_switchover_bandwidth: int | None = None
    """Set only where QEMU has the parameter (8.2 and newer); 0 there means unset."""

    @property
    def downtime_limit_s(self) -> float:
        return self.downtime_limit_ms / 1000


@dataclass(frozen=True)
class Estimate:
    bandwidth: float
    """Bytes a second QEMU sends: the median of the recent readings."""
    remaining: int
    """Bytes left in the current pass, now."""
    dirty_rate: float | None
    """QEMU's dirty rate (median of the recent readings); None before the second pass."""
    dirty_sets: list[int] = field(default_factory=list)
    """The per-pass dirty sets of the last passes, oldest first."""
    pass_start: int = 0
    """What the current pass started with."""
    throttle: int = 0
    """auto-converge's CPU throttle now (per cent; 0: none)."""

    @property
    def dirty_set(self) -> int:
        """What the next pass will have to fit: the largest recent dirty set."""
        return max(self.dirty_sets) if self.dirty_sets else self.pass_start

    @property
    def shrink_ratio(self) -> float | None:
        """Each dirty set over the one before, the median of the recent ones (None with fewer than two).

        A median, because the last passes before a switchover are shorter
        than a poll: their starts are read late and one ratio alone jumps.
        """
        sets = self.dirty_sets
        ratios = [new / old for old, new in zip(sets, sets[1:]) if old > 0]
        return statistics.median(ratios) if ratios else None

    @property
    def saturated(self) -> bool:
        """The guest rewrites a working set faster than QEMU sends it."""
        ratio = self.shrink_ratio
        steady = ratio is None or ratio >= STEADY
        return steady and self.dirty_rate is not None and self.dirty_rate >= SATURATED_READING * self.bandwidth

    @property
    def growth(self) -> float:
        """How much bigger the next dirty set may be than the largest seen (1: not growing)."""
        ratio = self.shrink_ratio
        return max(1.0, ratio or 1.0)
