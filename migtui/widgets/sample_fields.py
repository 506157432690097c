"""Every field of a ``query-migrate`` answer, in human units.

Fields keep QEMU's own names (``ram.dirty-sync-count``) so an admin can
match them with QEMU's documentation; the value says the unit. Members this
table does not know (a newer QEMU) are shown as QEMU sent them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from migtui.model.sample import Sample
from migtui.units import human_bytes, human_ms, human_rate

BYTES = frozenset({"transferred", "remaining", "total", "normal-bytes", "multifd-bytes", "precopy-bytes",
                   "downtime-bytes", "postcopy-bytes", "cache-size", "bytes", "compressed-size", "page-size"})
MILLISECONDS = frozenset({"total-time", "expected-downtime", "downtime", "setup-time", "postcopy-blocktime"})
MICROSECONDS = frozenset({"dirty-limit-throttle-time-per-round", "dirty-limit-ring-full-time"})
PAGES = frozenset({"duplicate", "normal", "pages", "cache-miss", "skipped", "postcopy-requests", "overflow", "busy",
                   "dirty-sync-missed-zero-copy"})
FRACTIONS = frozenset({"cache-miss-rate", "busy-rate"})
RATIOS = frozenset({"encoding-rate", "compression-rate"})


def describe(key: str, value: Any, page_size: int) -> str:
    """One field's value in human units."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return ", ".join(_flat(value)) or "none"
    if key in BYTES:
        return f"{human_bytes(value)} ({value:,} B)" if value >= 1024 else f"{value} B"
    if key in MILLISECONDS:
        return human_ms(value)
    if key in MICROSECONDS:
        return human_ms(value / 1000)
    if key in PAGES:
        return f"{value:,} pages"
    if key == "dirty-pages-rate":
        return f"{value:,} pages/s ({human_rate(value * page_size)})"
    if key == "pages-per-second":
        return f"{value:,} pages/s ({human_rate(value * page_size)})"
    if key == "mbps":
        return f"{value:,.1f} Mbit/s ({human_rate(value * 1e6 / 8)})"
    if key == "cpu-throttle-percentage":
        return f"{value} %"
    if key in FRACTIONS:
        return f"{value * 100:.1f} %"
    if key in RATIOS:
        return f"{value:.2f}×"
    return str(value)


def sample_fields(sample: Sample) -> Iterator[tuple[str, str]]:
    """(field, value) for the sample's every field, the derived ones first."""
    data = sample.info.to_json()
    ram = data.get("ram") or {}
    page_size = int(ram.get("page-size", 4096))
    yield "sampled at", time.strftime("%H:%M:%S", time.localtime(sample.wall)) + f".{int(sample.wall % 1 * 1000):03d}"
    yield "status", sample.status
    if sample.progress is not None:
        # The highest share yet of 1 - remaining/total: not what is left now (a looping migration's
        # saw-tooth dips near 0 every pass, whatever it must send again).
        yield "progress", f"{sample.progress:.1%} at best (at the lowest remaining)"
    if sample.info.ram:
        yield "dirty rate", human_rate(sample.dirty_rate)
        yield "throughput", human_rate(sample.throughput)
    for key, value in data.items():
        if key == "status":
            continue
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                yield f"{key}.{sub}", describe(sub, subvalue, page_size)
        else:
            yield key, describe(key, value, page_size)


def _flat(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    return [" ".join(_flat(v)) if isinstance(v, (dict, list)) else str(v) for v in value]
