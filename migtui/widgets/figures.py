"""What table cells and panels draw besides numbers (those are in migtui.units): the
time of day of a sample, and a sparkline."""

from __future__ import annotations

import time
from collections.abc import Sequence

_BLOCKS = "▁▂▃▄▅▆▇█"


def clock(wall: float) -> str:
    """Local time of day of ``wall`` (seconds since the epoch), to the second."""
    return time.strftime("%H:%M:%S", time.localtime(wall))


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` buckets of ``values`` as block characters, scaled to
    the largest value (so a falling line means what it says)."""
    if not values or width <= 0:
        return ""
    per_bucket = max(1, -(-len(values) // width))  # ceil: every value lands in a bucket
    buckets = [max(values[i:i + per_bucket]) for i in range(0, len(values), per_bucket)][-width:]
    top = max(buckets)
    if top <= 0:
        return _BLOCKS[0] * len(buckets)
    steps = len(_BLOCKS) - 1
    return "".join(_BLOCKS[round(v / top * steps)] for v in buckets)
