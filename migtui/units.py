"""Numbers in human units, for every layer: one module, one way to write a size, a rate or a time.

Binary units everywhere, as QEMU's own size parser reads them (K = 1024):

* sizes as people type them and as migtui writes them back: ``parse_size``
  (``1048576``, ``512K``, ``64M``, ``1.5G``, ``64MiB``), ``format_size`` (the
  shortest exact form, ``128M``);
* figures in prose and panels: ``human_bytes`` ("46.4 MiB"), ``human_rate``,
  ``human_ms``, ``human_seconds``, and ``exact_bytes`` ("64 MiB", "1.5 GiB":
  exact when it can be, for a value an admin set);
* figures in table cells, where every column counts at 80 columns:
  ``compact_bytes`` ("46.4M"; M is MiB, the letter kept so no figure is
  ambiguous), ``compact_rate``, ``compact_ms``, ``compact_seconds``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

SIZE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtpe]?)(i?b)?\s*$", re.IGNORECASE)
SIZE_FACTORS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50, "e": 2**60}
SIZE_HINT = "a size in bytes, such as 1048576, 512K, 64M or 1G"
NO_CAP = 1 << 40
"""A bandwidth cap of 1 TiB/s or more caps nothing a migration stream reaches: it reads as unlimited
(libvirt's "unlimited", its default, is 8 EiB/s)."""
_HUMAN = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_COMPACT = ("B", "K", "M", "G", "T", "P")


# -- sizes as typed ------------------------------------------------------------

def parse_size(value: object) -> int:
    """Bytes from an int or a text with an optional binary unit; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expects {SIZE_HINT}, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        found = SIZE_TEXT.match(value)
        if found:
            try:
                number = Decimal(found.group(1)) * SIZE_FACTORS[found.group(2).lower()]
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                number = None
            if number is not None and number == number.to_integral_value():
                return int(number)
            if number is not None:
                raise ValueError(f"{value!r} is not a whole number of bytes")
    raise ValueError(f"expects {SIZE_HINT}, not {value!r}")


def format_size(value: int) -> str:
    """The shortest exact form: 134217728 -> '128M', 1000 -> '1000'."""
    for unit in "EPTGMK":
        factor = SIZE_FACTORS[unit.lower()]
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


# -- figures in prose ----------------------------------------------------------

def human_bytes(value: float | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in _HUMAN:
        if abs(size) < 1024 or unit == _HUMAN[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_rate(bytes_per_second: float | None) -> str:
    return "-" if bytes_per_second is None else f"{human_bytes(bytes_per_second)}/s"


def human_ms(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    seconds = milliseconds / 1000
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.0f} min"


def human_seconds(seconds: float) -> str:
    """An ETA in words: "12 s", "3 min" (never "0 s": what is that close is "1 s")."""
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min"


def percent_done(fraction: float) -> str:
    """A migration's progress in whole percent, rounded down: "100%" only once all is sent (99.6% of a
    migration that loops is not done)."""
    return f"{math.floor(round(fraction * 100, 6)):.0f}%"


def exact_bytes(value: int) -> str:
    """Exact when it can be (``64 MiB``), one decimal otherwise (``1.5 GiB``), bytes below 1 KiB."""
    size = float(value)
    for unit in _HUMAN:
        if abs(size) < 1024 or unit == _HUMAN[-1]:
            if unit == "B":
                return f"{value} B"
            return f"{size:.0f} {unit}" if size.is_integer() else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# -- figures in table cells ----------------------------------------------------

def compact_bytes(value: float | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in _COMPACT:
        if abs(size) < 1024 or unit == _COMPACT[-1]:
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
