"""One line of text or JSON per sample, event or link change (``watch``, ``migrate --wait``)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from migtui.model.events import QMPEvent
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.model.units import human_bytes, human_ms, human_rate


def _clock(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="milliseconds")


def sample_line(sample: Sample, as_json: bool) -> str:
    if as_json:
        return json.dumps({"vm": sample.vm, "time": _iso(sample.wall), "sample": sample.info.to_json()})
    info = sample.info
    parts = [_clock(sample.wall), sample.vm, info.status]
    if info.ram is not None:
        parts += [
            f"pass {sample.passes}",
            f"{sample.progress:.0%}" if sample.progress is not None else "",
            f"remaining {human_bytes(info.ram.remaining)}",
            f"dirty {human_rate(sample.dirty_rate)}",
            f"sent {human_rate(sample.throughput)}",
        ]
    if info.expected_downtime is not None:
        parts.append(f"expected downtime {human_ms(info.expected_downtime)}")
    if info.cpu_throttle_percentage is not None:
        parts.append(f"throttle {info.cpu_throttle_percentage}%")
    if info.downtime is not None:
        parts.append(f"downtime {human_ms(info.downtime)}")
    if info.total_time is not None and info.status == "completed":
        parts.append(f"took {human_ms(info.total_time)}")
    if info.error_desc:
        parts.append(f"error: {info.error_desc}")
    return "  ".join(p for p in parts if p)


def event_line(event: QMPEvent, as_json: bool) -> str:
    if as_json:
        return json.dumps({"vm": event.vm, "time": _iso(event.wall), "event": event.name, "data": event.data})
    return "  ".join(p for p in (_clock(event.wall), event.vm, event.name, event.describe()) if p)


def notice_line(vm: str, kind: str, message: str, as_json: bool, **extra: Any) -> str:
    """A link change, a stall warning: anything that is neither sample nor event.

    In text, ``extra`` values that are strings follow the message after ';'."""
    now = time.time()
    if as_json:
        return json.dumps({"vm": vm, "time": _iso(now), kind: message, **extra})
    told = "".join(f"; {value}" for value in extra.values() if isinstance(value, str))
    return f"{_clock(now)}  {vm}  {kind}: {message}{told}"


def last_seen(state: VMState, as_json: bool) -> dict[str, Any]:
    """For a link line of a VM that is down: its last sample, as last seen (not current)."""
    sample = state.latest
    if not state.stale or sample is None or sample.status == "none":
        return {}
    if as_json:
        return {"last_seen": {"time": _iso(sample.wall), "sample": sample.info.to_json()}}
    figures = sample_line(sample, False).split("  ", 2)[-1]  # without its clock and VM name
    return {"last_seen": f"last seen at {_clock(sample.wall)}: {figures}"}
