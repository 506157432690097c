"""One line of text or JSON per sample, event or link change (``watch``, ``migrate --wait``)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import datetime
from typing import Any

from migtui.model.convergence import Prediction, Verdict
from migtui.model.events import QMPEvent
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.units import human_bytes, human_ms, human_rate, percent_done


def _clock(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="milliseconds")


def sample_line(sample: Sample, as_json: bool) -> str:
    if as_json:
        # A snapshot job's figures come through query-migrate too; they are not a migration's.
        kind = "snapshot" if sample.snapshot else "sample"
        return json.dumps({"vm": sample.vm, "time": _iso(sample.wall), kind: sample.info.to_json()})
    info = sample.info
    if sample.snapshot:
        return "  ".join((_clock(sample.wall), sample.vm, "no migration (a snapshot job ran)"))
    parts = [_clock(sample.wall), sample.vm, info.status]
    if info.ram is not None:
        parts += [
            f"pass {sample.passes}",
            percent_done(sample.progress) if sample.progress is not None else "",
            f"remaining {human_bytes(info.ram.remaining)}",
            f"dirty {human_rate(sample.dirty_rate)}" if sample.dirty_rate_known else "dirty: measuring",
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


def event_line(event: QMPEvent, as_json: bool, during: str | None = None) -> str:
    """``during``: the job whose MIGRATION events these are (QEMU's savevm sends them too)."""
    if as_json:
        extra = {"during": during} if during else {}
        return json.dumps({"vm": event.vm, "time": _iso(event.wall), "event": event.name, "data": event.data,
                           **extra})
    suffix = f"(of {during}, not a migration)" if during else ""
    return "  ".join(p for p in (_clock(event.wall), event.vm, event.name, event.describe(), suffix) if p)


def notice_line(vm: str, kind: str, message: str, as_json: bool, **extra: Any) -> str:
    """A link change, a stall warning: anything that is neither sample nor event.

    In text, ``extra`` values that are strings follow the message after ';'."""
    now = time.time()
    if as_json:
        return json.dumps({"vm": vm, "time": _iso(now), kind: message, **extra})
    told = "".join(f"; {value}" for value in extra.values() if isinstance(value, str))
    return f"{_clock(now)}  {vm}  {kind}: {message}{told}"

def advice_line(vm: str, prediction: Prediction, as_json: bool) -> str:
    """The model's verdict and what would help, as ``{"vm", "time", "advice": {...}}``."""
    if as_json:
        return json.dumps({"vm": vm, "time": _iso(time.time()), "advice": prediction.to_json()})
    told = [prediction.summary, *(f"→ {action.text}" for action in prediction.actions)]
    return notice_line(vm, "advice", "; ".join(told), False)


ADVICE_STEADY = 0.2
"""An advised value within this share of the one last told is no news: the figures behind it move with
every sample (a downtime limit read as 610, 650, 640, 650 ms is one piece of advice)."""


class AdviceChanges:
    """Tells when a VM's verdict or advised actions changed (not every new ETA, nor a value's jitter)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[object, ...]] = {}

    def changed(self, vm: str, prediction: Prediction) -> bool:
        if prediction.verdict is Verdict.IDLE and vm not in self._last:
            return False
        signature = prediction.signature
        told = self._last.get(vm)
        if told is not None and _same_advice(told, signature):
            return False
        self._last[vm] = signature
        return True


def _same_advice(told: tuple[object, ...], now: tuple[object, ...]) -> bool:
    """The same verdict, actions and outcomes, each action's value within ADVICE_STEADY of the one told."""
    (verdict, actions, followed), (verdict_now, actions_now, followed_now) = told, now
    if verdict != verdict_now or followed != followed_now:
        return False
    assert isinstance(actions, tuple) and isinstance(actions_now, tuple)  # Prediction.signature's shape
    return len(actions) == len(actions_now) and all(
        a[:2] == b[:2] and _near(a[2], b[2]) for a, b in zip(actions, actions_now, strict=True))


def _near(told: object, now: object) -> bool:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (told, now)):
        return told == now
    assert isinstance(told, int | float) and isinstance(now, int | float)
    return abs(told - now) <= ADVICE_STEADY * max(abs(told), abs(now))


def quiet_stdout() -> None:
    """After a closed pipe (``| head``): point stdout at /dev/null so that
    Python's exit-time flush does not fail again and print a traceback."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class Output:
    """Lines to stdout for a command that runs until stopped (``watch``).

    A closed pipe sets :attr:`closed` instead of raising: the lines are
    written from the fleet's callbacks, which must not let an error through,
    so the command waits on :attr:`closed` and ends when it is set.
    """

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    def __call__(self, line: str) -> None:
        if self.closed.is_set():
            return
        try:
            print(line, flush=True)
        except BrokenPipeError:
            quiet_stdout()
            self.closed.set()


def last_seen(state: VMState, as_json: bool) -> dict[str, Any]:
    """For a link line of a VM that is down: its last sample, as last seen (not current)."""
    sample = state.latest
    if not state.stale or sample is None or sample.status == "none":
        return {}
    if as_json:
        return {"last_seen": {"time": _iso(sample.wall), "sample": sample.info.to_json()}}
    figures = sample_line(sample, False).split("  ", 2)[-1]  # without its clock and VM name
    return {"last_seen": f"last seen at {_clock(sample.wall)}: {figures}"}
