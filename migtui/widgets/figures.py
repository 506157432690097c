"""Compact figures for table cells, where every column counts at 80 columns.

``human_bytes`` says "46.4 MiB"; a cell says "46.4M". Binary units as
everywhere else in migtui (M is MiB), the unit letter kept so no figure is
ambiguous.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

_UNITS = ("B", "K", "M", "G", "T", "P")
_BLOCKS = "▁▂▃▄▅▆▇█"


def compact_bytes(value: float | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{size:.0f}B"
            return f"{size:.1f}{unit}" if abs(size) < 100 else f"{size:.0f}{unit}"
        size /= 1024
    raise AssertionError("unreachable")


def compact_rate(bytes_per_second: float | None) -> str:
    return "-" if bytes_per_second is None else f"{compact_bytes(bytes_per_second)}/s"


def compact_ms(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds:.0f}ms"
    seconds = milliseconds / 1000
    return f"{seconds:.1f}s" if seconds < 100 else f"{seconds / 60:.0f}min"


def compact_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}min"
    return f"{seconds / 3600:.0f}h"


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
