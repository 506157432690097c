"""What a migration would take, predicted before it starts, from a dirty-rate measurement.

QEMU's ``calc-dirty-rate`` (page-sampling: it hashes sampled pages over
``calc-time`` seconds) gives the guest's dirty rate D before any migration.
The first pass sends all RAM at the bandwidth B (an upper bound on its
length: zero pages go much faster), during which the guest dirties D x T1
(at most all of its RAM); from then on each pass dirties D/B of the one
before. That is the model of ``convergence.py`` with two passes foreseen
instead of seen, so verdict, ETA and advice come from the same arithmetic.

Sampling counts unique pages: a guest that rewrites a working set W within
the sampling time reads as W per second. ``migtui.qmp.dirty_rate`` samples
twice (1 s and 2 s) to find such a set; its true rate stays unknown (at
least W a second), as it is during a migration.
"""

from __future__ import annotations

from dataclasses import replace

from migtui.model.convergence import Prediction, Verdict, judge
from migtui.model.estimate import Estimate, MigrationSettings
from migtui.units import NO_CAP, human_seconds

DEFAULT_BANDWIDTH = 128 * 1024 * 1024
"""QEMU's max-bandwidth default (7.2 and later): the speed assumed when no cap is set."""


def predict_before(dirty_rate: float, ram_bytes: int, settings: MigrationSettings,
                   working_set: int | None = None) -> Prediction:
    """``working_set``: the bytes a guest rewrites again and again, when sampling found one."""
    cap = settings.max_bandwidth or 0
    capped = 0 < cap < NO_CAP
    bandwidth = float(cap if capped else DEFAULT_BANDWIDTH)
    first_pass = ram_bytes / bandwidth
    dirtied = min(float(ram_bytes), dirty_rate * first_pass, float(working_set or ram_bytes))
    # A working set rewritten within a second is dirtied whole in every pass of a second or more.
    ratio = 1.0 if working_set is not None and working_set <= dirty_rate * dirtied / bandwidth else \
        dirty_rate / bandwidth
    found = Estimate(bandwidth=bandwidth, remaining=int(dirtied), dirty_rate=dirty_rate,
                     dirty_sets=[int(dirtied), int(min(dirtied, dirtied * ratio))], pass_start=int(dirtied))
    prediction = judge(found, settings, stalled=False)
    # At most: pages of zeros cost QEMU almost nothing to send; at least, where the path carries less.
    first = (f"the first pass sends {ram_bytes / 2**20:.0f} MiB at {bandwidth / 2**20:.0f} MiB/s "
             f"in at most {human_seconds(first_pass)} (pages of zeros go faster)")
    if not capped:
        first += "; no bandwidth cap is set: that speed is assumed"
    if prediction.verdict is Verdict.CONVERGING and prediction.eta_seconds is not None:
        eta = prediction.eta_seconds + first_pass
        return replace(prediction, eta_seconds=eta, summary=f"would converge within about {human_seconds(eta)}",
                       reasons=[first, *prediction.reasons])
    return replace(prediction, summary="would not converge at current settings",
                   reasons=[first, *prediction.reasons],
                   actions=[replace(a, eta_s=None if a.eta_s is None else a.eta_s + first_pass)
                            for a in prediction.actions if a.kind == "parameter"])
