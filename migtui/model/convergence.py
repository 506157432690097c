"""Will this migration converge, and when?

How it is computed (pre-copy, the way QEMU migrates RAM):

* QEMU sends what is left (``remaining``, R bytes) at the throughput B while
  the guest dirties D bytes a second. A pass over R takes R/B seconds and
  leaves about D*R/B bytes dirty for the next one: each pass shrinks what is
  left by the ratio r = D/B.
* QEMU stops the guest for the final copy once what is left can be sent
  within the downtime limit L: R <= B*L.
* With r < 1, the passes still needed are n = log(B*L/R) / log(r) and they
  take about (R/B) * (1 - r^n) / (1 - r) seconds.
* With r >= 1, what is left no longer shrinks: the migration converges only
  if it already fits in the downtime limit; otherwise it never ends unless
  something changes (more bandwidth, a longer downtime limit, auto-converge
  throttling the guest, or postcopy).

D and B are medians over a recent window (single samples jump between
passes); R is the newest. The arithmetic is overruled by what was seen: when
the last passes did not shrink what is left (a stall, see ``tracker.py``),
or when r is so close to 1 that convergence would take more than
MAX_PASSES passes, the verdict is "will not converge". A guest whose working
set is smaller than what it could dirty per pass shows exactly that: QEMU's
dirty rate reads just under the throughput while the remainder stays put. The actions that would help are named with the
number that would make the arithmetic work.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from migtui.model.sample import Sample
from migtui.model.units import human_bytes, human_rate

WINDOW_SECONDS = 10.0
MAX_PASSES = 30


class Verdict(StrEnum):
    IDLE = "idle"
    FINISHED = "finished"
    MEASURING = "measuring"
    CONVERGING = "converging"
    NOT_CONVERGING = "not converging"
    POSTCOPY = "postcopy"
    UNKNOWN = "unknown"
    """The VM cannot be asked (its link is down): old figures predict nothing."""


@dataclass(frozen=True)
class MigrationSettings:
    """What the prediction needs to know of the VM's parameters and capabilities."""

    downtime_limit_ms: int = 300
    max_bandwidth: int | None = None
    auto_converge: bool = False
    postcopy_ram: bool = False


@dataclass(frozen=True)
class Prediction:
    verdict: Verdict
    summary: str
    """One line: 'converges in about 12 s', 'will not converge at current rates'."""
    eta_seconds: float | None = None
    reasons: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def predict(samples: Sequence[Sample], settings: MigrationSettings = MigrationSettings(),
            stalled: bool = False) -> Prediction:
    if not samples:
        return Prediction(Verdict.IDLE, "no migration")
    latest = samples[-1]
    status = latest.status
    if status in ("completed", "failed", "cancelled", "cancelling"):
        return Prediction(Verdict.FINISHED, status)  # cancelling: it ends without converging, whatever the rates
    if status.startswith("postcopy"):
        return Prediction(Verdict.POSTCOPY, "in postcopy: it will finish; pages arrive on demand")
    if not latest.active:
        return Prediction(Verdict.IDLE, "no migration")
    recent = [s for s in samples if s.at >= latest.at - WINDOW_SECONDS and s.info.ram is not None]
    measured = [s for s in recent if s.info.ram and s.info.ram.dirty_sync_count >= 2]
    remaining = latest.remaining
    if not measured or remaining is None or latest.throughput <= 0:
        return Prediction(Verdict.MEASURING, "measuring: the dirty rate is known after the second pass")
    dirty = statistics.median(s.dirty_rate for s in measured)
    bandwidth = statistics.median(s.throughput for s in recent if s.throughput > 0)
    limit_s = settings.downtime_limit_ms / 1000
    budget = bandwidth * limit_s  # bytes that fit into the downtime limit
    ratio = dirty / bandwidth
    if remaining <= budget:
        return Prediction(Verdict.CONVERGING, "converges now: what is left fits in the downtime limit", 0.0)
    if budget <= 0:  # a downtime limit of 0: QEMU never switches over
        passes = math.inf
    elif 0 < ratio < 1:
        passes = math.log(budget / remaining) / math.log(ratio)
    else:
        passes = 1.0 if ratio == 0 else math.inf
    if not stalled and passes <= MAX_PASSES:
        eta = remaining / bandwidth * (1 - ratio ** passes) / (1 - ratio) if ratio > 0 else remaining / bandwidth
        return Prediction(
            Verdict.CONVERGING,
            f"converges in about {_seconds(eta)} ({math.ceil(passes)} more pass{'es' if math.ceil(passes) != 1 else ''})",
            eta,
            [f"guest dirties {human_rate(dirty)}, QEMU sends {human_rate(bandwidth)} ({ratio:.0%})"],
        )
    reasons = [
        "the last passes did not shrink what is left" if stalled else
        f"at {ratio:.0%} of the throughput, the dirty rate leaves too much after each pass",
        f"the guest dirties {human_rate(dirty)}, QEMU sends {human_rate(bandwidth)}",
        f"{human_bytes(remaining)} left would need {remaining / bandwidth * 1000:.0f} ms of downtime; "
        f"the limit is {settings.downtime_limit_ms} ms",
    ]
    return Prediction(Verdict.NOT_CONVERGING, "will not converge at current rates", None, reasons,
                      _actions(dirty, bandwidth, remaining, settings))


def _actions(dirty: float, bandwidth: float, remaining: int, settings: MigrationSettings) -> list[str]:
    actions = []
    # More bandwidth helps only where max-bandwidth is what holds QEMU back.
    if settings.max_bandwidth is None or bandwidth >= settings.max_bandwidth * 0.8:
        actions.append(f"raise max-bandwidth above {human_rate(dirty * 1.5)}")
    actions.append(f"raise downtime-limit to about {math.ceil(remaining / bandwidth * 1000 * 1.1)} ms")
    if not settings.auto_converge:
        actions.append("enable the auto-converge capability (throttles the guest's vCPUs)")
    if settings.postcopy_ram:
        actions.append("switch to postcopy (postcopy-ram is on)")
    return actions


def _seconds(value: float) -> str:
    if value < 60:
        return f"{max(value, 1):.0f} s"
    return f"{value / 60:.0f} min"
