"""Will this migration converge, and when? The model, after QEMU's own rule.

QEMU's switchover rule (migration.c, ram.c): QEMU sends the pages dirty in
its bitmap. When what is left falls under the threshold bandwidth x
downtime-limit, it syncs the bitmap, adding what the guest dirtied since the
previous sync, and switches over if what is left still fits. So what must
fit is the set of pages the guest dirtied during the last pass, not the
``remaining`` of some moment: ``remaining`` is a saw-tooth that falls from
that per-pass dirty set to nearly nothing every pass.

The model:

* **The per-pass dirty set S** is read at each pass start (see
  ``passes.py``); the largest of the last few is what the next pass must fit.
* **The bandwidth B** is the median throughput of the last seconds
  (QEMU's ``mbps`` is a 100 ms reading and jumps).
* **The guest** is either *shrinking*: each pass dirties r = S_next/S of
  the one before (about the dirty rate D over B, D read from QEMU's
  ``dirty-pages-rate``), so S falls geometrically; or *saturated*: it rewrites
  a working set W faster than QEMU sends, S stays at about W pass after pass
  and QEMU's dirty rate reads about B (it counts unique pages per sync
  period, so it follows the bandwidth). A saturated guest's true rate is
  unknown: only that it is at least B.
* **Verdict:** with r < 1, S_k = S r^k and the migration converges once
  S_k <= B x L; each pass takes S_k / B. The ETA is the rest of the current
  pass plus those passes plus the downtime; the expected downtime is the
  last S over B. A steady or growing S never fits unless the settings
  change: "will not converge at current settings".
* **Measuring** until a dirty set after the first pass is known (the first
  pass sends all RAM, which says nothing about the guest), and while one
  reading cannot tell a shrinking guest from a saturated one.

Limits: it knows what the guest did, not what it will do. A guest whose
writes change (a batch job starting, a cache warming) makes the prediction
wrong until a pass or two have shown it; the ETA of auto-converge depends on
how hard throttling slows the guest, which no counter tells beforehand (it
is given as the time QEMU needs to raise the throttle to its maximum); and
the bandwidth a higher ``max-bandwidth`` would really get depends on the
link, which migtui cannot see.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from migtui.model.advice import BINDING_CAP, PLAUSIBLE_RAISE, Action, advise, throttle_eta
from migtui.model.estimate import STEADY, Estimate, MigrationSettings
from migtui.model.passes import PassLog
from migtui.model.path import PathCapacity
from migtui.model.promise import Promise
from migtui.model.sample import Sample
from migtui.model.status import ENDING_STATES, STREAMING_STATES, MigrationStatus
from migtui.units import human_bytes, human_rate, human_seconds

WINDOW_SECONDS = 10.0
MAX_PASSES = 30
CLEARLY_SHRINKING = 0.8
"""With a single reading, a ratio under this is taken as shrinking."""
PATH_FULL = 0.8
"""Throughput at this share of what the path carries or more: the path is what limits it."""
ATTACHED_SETS = 2
"""Whole passes a migration migtui attached to must show before it is judged: passes shorter
than a poll have their starts read late, and one such reading alone is a third too low."""

__all__ = ["MigrationSettings", "Prediction", "Verdict", "estimate", "predict", "simulate"]

DEFAULT_SETTINGS = MigrationSettings()
"""QEMU's defaults (frozen: one instance serves every call)."""


class Verdict(StrEnum):
    IDLE = "idle"
    FINISHED = "finished"
    MEASURING = "measuring"
    CONVERGING = "converging"
    NOT_CONVERGING = "not-converging"
    POSTCOPY = "postcopy"
    UNKNOWN = "unknown"
    """The VM cannot be asked (its link is down): old figures predict nothing."""
    POSTCOPY_PAUSED = "postcopy-paused"
    """The postcopy's stream broke: the guest is split between two hosts until recovered."""
    NO_PROGRESS = "no-progress"
    """QEMU says active but sends nothing (the stream's link is down?): no setting helps."""
    POSTCOPY_STALLED = "postcopy-stalled"
    """QEMU says postcopy-active but sends nothing (the stream's link is down?): the guest on the
    destination waits for pages that do not come, frozen, and neither QEMU sees an error."""


NO_PROGRESS_AFTER = 5.0
"""Seconds an active migration may send nothing before that is its verdict.

QEMU keeps a migration whose link is down ``active`` with its counters
standing still and reports no error: the standing counters are the only sign.
Passes never pause this long while the stream moves. The same holds in postcopy
(``postcopy-active``): the source sends the pages the destination asks for
and the rest in the background, so its bytes sent rise until it completes; a
link that goes down leaves both sides ``postcopy-active`` (TCP only
retransmits) while the guest on the destination waits for its memory.
"""


@dataclass(frozen=True)
class Prediction:
    verdict: Verdict
    summary: str
    """One line: 'converges in about 12 s', 'will not converge at current settings'."""
    eta_seconds: float | None = None
    reasons: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    expected_downtime_ms: float | None = None
    """How long the guest will be stopped at switchover, by the model."""
    path: PathCapacity | None = None
    """What the path to the destination carries, where migtui knows it (the bandwidth actions' bound)."""
    followed: tuple[Promise, ...] = ()
    """The advice followed during this migration, its promise and (once it ended) the outcome."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": None if self.path is None else self.path.to_json(),
            "verdict": self.verdict.value,
            "eta_s": _rounded(self.eta_seconds),
            "expected_downtime_ms": _rounded(self.expected_downtime_ms),
            "reasons": list(self.reasons),
            "actions": [action.to_json() for action in self.actions],
        } | ({"followed": [promise.to_json() for promise in self.followed]} if self.followed else {})

    @property
    def signature(self) -> tuple[object, ...]:
        """What a script is told again when it changes: the verdict, the actions' values, and the
        advice followed (again when its outcome is known, when QEMU's downtime settles: the
        first "completed" answer can still say 0, and when a bandwidth action's check says whether
        it was enough)."""
        return (self.verdict, tuple((a.kind, a.name, a.value) for a in self.actions),
                tuple((p.name, p.status, p.downtime_ms, p.check.enough if p.check else None) for p in self.followed))


def estimate(samples: Sequence[Sample], passes: PassLog) -> Estimate | None:
    """What the recent samples say of the guest and the link (None: nothing to say yet)."""
    if not samples:
        return None
    latest = samples[-1]
    recent = [s for s in samples if s.at >= latest.at - WINDOW_SECONDS and s.info.ram is not None]
    flowing = [s.throughput for s in recent if s.throughput > 0]
    if latest.remaining is None or not flowing:
        return None
    measured = [s.dirty_rate for s in recent if s.dirty_rate_known]
    current = passes.current
    return Estimate(
        bandwidth=statistics.median(flowing),
        remaining=latest.remaining,
        dirty_rate=statistics.median(measured) if measured else None,
        dirty_sets=passes.dirty_sets(),
        pass_start=current.start_remaining if current else latest.remaining,
        throttle=latest.info.cpu_throttle_percentage or 0,
    )


def predict(samples: Sequence[Sample], settings: MigrationSettings = DEFAULT_SETTINGS,
            stalled: bool = False, passes: PassLog | None = None, frozen: float | None = None) -> Prediction:
    """``frozen``: seconds the stream has stood still, where the caller followed it longer than
    ``samples`` reach (the tracker's ``frozen_for``); None: read from ``samples``."""
    if not samples:
        return Prediction(Verdict.IDLE, "no migration")
    latest = samples[-1]
    status = latest.status
    if latest.snapshot:
        return Prediction(Verdict.IDLE, "no migration (QEMU's figures are those of a snapshot)")
    if status in ENDING_STATES:
        return Prediction(Verdict.FINISHED, status)  # cancelling: it ends without converging, whatever the rates
    if status == MigrationStatus.POSTCOPY_PAUSED:
        return Prediction(Verdict.POSTCOPY_PAUSED, "EMERGENCY: postcopy paused, the guest is split between two hosts",
                          reasons=["the migration stream broke during postcopy: the guest runs on the destination, "
                                   "part of its memory is still on the source, and it waits for pages that do not "
                                   "come; nothing moves until the stream is back",
                                   "recover it (R, or migtui recover VM): the destination listens again, the source "
                                   "resumes the postcopy where it stopped"])
    if frozen is None:
        frozen = sent_nothing_for(samples)
    if status == MigrationStatus.POSTCOPY_ACTIVE and frozen >= NO_PROGRESS_AFTER:
        return postcopy_stalled(frozen)
    if status.startswith("postcopy"):
        return Prediction(Verdict.POSTCOPY, "in postcopy: it will finish; pages arrive on demand")
    if not latest.active:
        return Prediction(Verdict.IDLE, "no migration")
    if frozen >= NO_PROGRESS_AFTER:
        return Prediction(Verdict.NO_PROGRESS, f"no progress: nothing sent for {frozen:.0f} s",
                          reasons=["QEMU says active, but the migration stream does not move: is the link "
                                   "to the destination down, or the destination gone?",
                                   "no setting helps until it moves again; cancel it if it does not"])
    if passes is None:
        passes = PassLog()
        for sample in samples:
            if sample.info.ram:
                passes.add(sample.passes, sample.info.ram.remaining, sample.at)
    found = estimate(samples, passes)
    attached = passes.attached_during
    if attached is not None and (found is None or len(found.dirty_sets) < ATTACHED_SETS):
        # No figure from a pass seen in part: advice taken now would be applied with a wrong number.
        return Prediction(Verdict.MEASURING, f"measuring (attached during pass {attached}): what the guest "
                                             "dirties is read from the passes migtui sees whole")
    if found is None or not found.dirty_sets:
        return Prediction(Verdict.MEASURING, "measuring: the first pass sends all RAM; "
                                             "what the guest dirties per pass is known after it")
    return judge(found, settings, stalled)


def postcopy_stalled(frozen: float) -> Prediction:
    """The verdict on a postcopy whose stream has not moved for ``frozen`` seconds (and its words:
    the advice module has no postcopy of its own to advise on)."""
    return Prediction(
        Verdict.POSTCOPY_STALLED,
        f"EMERGENCY: postcopy stalled: nothing sent for {frozen:.0f} s; the guest on the destination waits "
        "for its memory",
        # The way out first: a view with room for one line (the fleet's brief) shows that one.
        reasons=["pause it (P, or migtui pause VM): the source pauses at once, the destination once the link "
                 "is back; then recover it (R, or migtui recover VM), which resumes where it stopped. No "
                 "setting helps; a link that comes back by itself lets the postcopy go on",
                 "QEMU says postcopy-active, but the migration stream does not move: is the link to the "
                 "destination down? TCP only retransmits, so neither QEMU sees an error or pauses, while the "
                 "guest runs on the destination and stops at its first page still on the source"])


def sent_nothing_for(samples: Sequence[Sample]) -> float:
    """Seconds the latest samples of an active migration (precopy or postcopy) show the same bytes sent."""
    latest = samples[-1]
    if latest.status not in STREAMING_STATES or latest.info.ram is None:  # pre-switchover waits on purpose
        return 0.0
    since = latest.at
    for sample in reversed(samples):
        if sample.status not in STREAMING_STATES or sample.info.ram is None or \
                sample.info.ram.transferred != latest.info.ram.transferred:
            break
        since = sample.at
    return latest.at - since


def judge(found: Estimate, settings: MigrationSettings, stalled: bool) -> Prediction:
    bandwidth, budget = found.bandwidth, found.bandwidth * settings.downtime_limit_s
    ratio = found.shrink_ratio
    reading = (found.dirty_rate or 0.0) / bandwidth
    if ratio is None:  # one dirty set: QEMU's dirty rate is the only hint of the trend
        if reading < CLEARLY_SHRINKING:
            ratio = reading
        elif reading < STEADY and not stalled:
            return Prediction(Verdict.MEASURING, "measuring: one more pass tells whether what the guest "
                                                 "dirties shrinks")
    elif found.dirty_rate is not None:
        ratio = max(ratio, min(reading, 1.0))  # the slower of the two signs of shrinking
    about = [f"the guest dirties {human_bytes(found.dirty_set)} a pass; QEMU sends {human_rate(bandwidth)}"]
    if 0 < found.dirty_set * found.growth <= budget:  # the next pass fits already, however the trend reads
        eta = max(found.remaining - budget, 0) / bandwidth + found.dirty_set / bandwidth
        return Prediction(Verdict.CONVERGING, f"converges in about {human_seconds(eta)}: what the guest dirties "
                                              "a pass fits into the downtime limit", eta, about,
                          expected_downtime_ms=found.dirty_set / bandwidth * 1000)
    if not stalled and ratio is not None and ratio < STEADY and budget > 0:
        run = simulate(found, settings, ratio)
        if run is not None:
            eta, downtime_ms, more = run
            plural = "es" if more != 1 else ""
            return Prediction(Verdict.CONVERGING, f"converges in about {human_seconds(eta)} ({more} more pass{plural})",
                              eta, [*about, f"each pass dirties about {ratio:.0%} of the one before"],
                              expected_downtime_ms=downtime_ms)
    reasons = [
        "what the guest dirties does not shrink from pass to pass" if stalled or (ratio or 1) >= STEADY else
        f"each pass dirties {ratio:.0%} of the one before: too slow to fit within {MAX_PASSES} passes",
        *about,
        f"fitting {human_bytes(found.dirty_set)} into the downtime limit needs "
        f"{found.dirty_set / bandwidth * 1000:.0f} ms; the limit is {settings.downtime_limit_ms} ms",
    ]
    if found.saturated:
        reasons.append("the dirty rate reads about the throughput: the guest rewrites a working set "
                       "faster than QEMU sends it (its true rate is higher)")
    if settings.auto_converge and found.throttle < settings.max_throttle:
        eta = throttle_eta(found, settings, found.throttle)
        return Prediction(Verdict.CONVERGING, f"converges as auto-converge slows the guest: within about "
                                              f"{human_seconds(eta)} (throttle {found.throttle} %, up to "
                                              f"{settings.max_throttle} %)", eta, reasons[1:])
    if not settings.auto_converge:
        reasons.append("auto-converge would throttle the guest, but QEMU takes capabilities only before a "
                       "migration: next time, migrate with auto-converge on (or dirty-limit: QEMU 8.1+ on KVM "
                       "with a dirty ring), a cost to the guest's speed")
    path = settings.path
    if path is not None:
        full = bandwidth >= PATH_FULL * path.bandwidth
        reasons.append(f"the path is full: QEMU sends {human_rate(bandwidth)}, it carries {path.words}" if full
                       else f"the path carries {path.words}")
        if path.recorded is not None and path.recorded.source not in path.source:
            reasons.append(path.recorded.source)  # the past is said even where today's figure bounds the advice
    actions = advise(found, settings, simulate)
    cap = settings.max_bandwidth or 0
    if path is None and bandwidth >= BINDING_CAP * cap > 0 and not any(a.name.startswith("max-bandwidth")
                                                                        for a in actions):
        # Said, not left out silently: the cap holds QEMU back, but more of it is a bet on an unknown path.
        reasons.append(f"no more bandwidth offered: what the path carries is unknown (offers stop at "
                       f"{PLAUSIBLE_RAISE}x what QEMU sends now, {human_rate(PLAUSIBLE_RAISE * bandwidth)})")
    return Prediction(Verdict.NOT_CONVERGING, "will not converge at current settings", None, reasons,
                      actions, expected_downtime_ms=found.dirty_set / bandwidth * 1000, path=path)


def simulate(found: Estimate, settings: MigrationSettings, ratio: float) -> tuple[float, float, int] | None:
    """(ETA s, downtime ms, passes) of a guest whose dirty set shrinks by ``ratio`` a pass;
    None: not within MAX_PASSES."""
    bandwidth = found.bandwidth
    budget = bandwidth * settings.downtime_limit_s
    eta = max(found.remaining - budget, 0) / bandwidth
    dirty = ratio * found.pass_start
    more = 0
    while dirty > budget:
        more += 1
        if more > MAX_PASSES:
            return None
        eta += dirty / bandwidth
        dirty *= ratio
    downtime = dirty / bandwidth
    return eta + downtime, downtime * 1000, more


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
