"""Moments of a recording as people type them: ``11:05``, ``2026-12-01T11:05:30``, ``+5m``, ``-90s``."""

from __future__ import annotations

from datetime import datetime

from migtui.errors import UsageError
from migtui.record.retention import parse_duration


def parse_moment(text: str, span: tuple[float, float]) -> float:
    """Seconds since the epoch for ``text``, within the recording's ``span`` (first, last)."""
    first, last = span
    text = text.strip()
    if text[:1] in "+-" and text[1:2].isdigit():
        offset = parse_duration(text[1:])
        return first + offset if text[0] == "+" else last - offset
    for layout in ("%H:%M:%S", "%H:%M"):
        try:
            clock = datetime.strptime(text, layout).time()
        except ValueError:
            continue
        day = datetime.fromtimestamp(first).date()
        moment = datetime.combine(day, clock).timestamp()
        return moment if moment >= first - 1 else moment + 86400  # a recording that runs past midnight
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise UsageError(f"not a time: {text!r} (HH:MM[:SS], an ISO date and time, +5m, -5m)") from None
