"""What a migration reached: the best median of its consecutive throughput readings.

One reading of QEMU's ``mbps`` is a 100 ms figure that jumps (a shaper's
burst, a pass that sends zero pages fast): a path is taken to carry what a
migration kept up for several readings, not what one of them said. The same
rule serves the migrations this process watches (:mod:`migtui.qmp.path_finder`)
and those a recording kept (:mod:`migtui.record.route_history`), so a figure
from the past means what a figure from today means.
"""

from __future__ import annotations

import statistics
from collections import deque

READINGS = 10
"""Throughput readings whose median is what a migration reached."""


class Reached:
    """The best median of READINGS consecutive non-zero throughput readings of one migration."""

    def __init__(self) -> None:
        self.recent: deque[float] = deque(maxlen=READINGS)
        self.best: float | None = None
        """Bytes a second (None: not READINGS readings yet)."""

    def add(self, throughput: float) -> float | None:
        """Take one reading (bytes a second; 0, a pass that sent nothing, is not one); the best so far."""
        if throughput > 0:
            self.recent.append(throughput)
            if len(self.recent) == READINGS:
                median = statistics.median(self.recent)
                if self.best is None or median > self.best:
                    self.best = median
        return self.best

    def clear(self) -> None:
        """Another migration: its own readings."""
        self.recent.clear()
        self.best = None
