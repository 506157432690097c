"""What the model reads off a migration (the guest, the link) and the VM's settings that bear on it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from migtui.model.path import PathCapacity

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
    path: PathCapacity | None = None
    """What the path to the destination carries, where migtui knows it."""
    max_postcopy_bandwidth: int | None = None
    """QEMU's cap on postcopy's background sending (None: none, QEMU's 0)."""

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
        """How much of a pass the next one dirties: the geometric mean over the recent dirty sets
        (None with fewer than two).

        Over the whole window, not pass by pass: passes shorter than a poll
        have their starts read late, so successive readings zig-zag, and
        only the trend across several of them says something.
        """
        sets = self.dirty_sets
        if len(sets) < 2 or sets[0] <= 0 or sets[-1] <= 0:
            return None
        return float((sets[-1] / sets[0]) ** (1 / (len(sets) - 1)))

    @property
    def rate_follows_bandwidth(self) -> bool:
        """QEMU's dirty rate reads about the throughput: it measures the bandwidth, not the guest."""
        return self.dirty_rate is not None and self.dirty_rate >= SATURATED_READING * self.bandwidth

    @property
    def saturated(self) -> bool:
        """The guest rewrites a working set faster than QEMU sends it."""
        ratio = self.shrink_ratio
        return (ratio is None or ratio >= STEADY) and self.rate_follows_bandwidth

    @property
    def growth(self) -> float:
        """How much bigger the next dirty set may be than the largest seen (1: not growing).

        Only a set that grew pass after pass grows on; one that zig-zags does not, and a single
        rise (two readings, the first one read late in its pass) says nothing yet."""
        sets = self.dirty_sets
        if len(sets) < 3:
            return 1.0
        ratios = [new / old for old, new in itertools.pairwise(sets) if old > 0]
        return min(ratios) if ratios and min(ratios) > 1.0 else 1.0
