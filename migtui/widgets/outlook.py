"""One word for where a migration is heading, and one line for how it ended.

The verdict is the model's (:func:`~migtui.model.convergence.predict`, which
also weighs the tracker's stall detection); this module only says it in the
few characters a table cell has.
"""

from __future__ import annotations

from dataclasses import dataclass

from migtui.model.convergence import Prediction, Verdict
from migtui.model.sample import Sample
from migtui.model.status import FINAL_STATES
from migtui.units import compact_seconds, human_bytes, human_ms


@dataclass(frozen=True)
class Outlook:
    short: str
    """A table cell: 'in 12s', "won't end", 'measuring'..."""
    tone: str
    """'good', 'warn', 'bad' or 'muted' (a cell style)."""
    prediction: Prediction

    @property
    def headline(self) -> str:
        return self.prediction.summary

    @property
    def reasons(self) -> list[str]:
        return self.prediction.reasons


NOT_ENDING = "won't end"
"""The outlook of a migration that will not converge at its settings: QEMU never fails one, it runs on.
(Whether the model predicts it or the passes already show it, an admin does the same: one word.)"""

POSTCOPY_STALLED = "STALLED!"
"""The outlook of a postcopy whose stream stopped: the guest on the destination is frozen (an emergency,
as SPLIT! is; it fits the column at 80x24)."""


def outlook_of(prediction: Prediction) -> Outlook:
    verdict = prediction.verdict
    if verdict is Verdict.CONVERGING:
        eta = prediction.eta_seconds
        return Outlook("now" if not eta else f"in {compact_seconds(eta)}", "good", prediction)
    if verdict is Verdict.NOT_CONVERGING:
        return Outlook(NOT_ENDING, "bad", prediction)
    if verdict is Verdict.MEASURING:
        return Outlook("measuring", "warn", prediction)
    if verdict is Verdict.POSTCOPY:
        return Outlook("postcopy", "good", prediction)
    if verdict is Verdict.POSTCOPY_PAUSED:
        return Outlook("SPLIT!", "bad", prediction)
    if verdict is Verdict.NO_PROGRESS:
        return Outlook("no progress", "bad", prediction)
    if verdict is Verdict.POSTCOPY_STALLED:
        return Outlook(POSTCOPY_STALLED, "bad", prediction)
    if verdict is Verdict.UNKNOWN:
        return Outlook("?", "muted", prediction)
    if verdict is Verdict.FINISHED:
        return Outlook(prediction.summary, "muted", prediction)
    return Outlook("-", "muted", prediction)


def ending(sample: Sample | None, downtime_limit_ms: object = None) -> str | None:
    """How a finished migration went, in one line (None while one runs or none ran)."""
    if sample is None or sample.status not in FINAL_STATES or sample.snapshot:
        return None  # a snapshot job's end is told by its job panel, not as a migration's
    info = sample.info
    took = f" after {human_ms(info.total_time)}" if info.total_time is not None else ""
    if sample.status == "failed":
        return f"failed{took}: {info.error_desc or 'QEMU gave no reason (the destination QEMU may have)'}"
    if sample.status == "cancelled":
        return f"cancelled{took}"
    parts = [f"completed{took.replace(' after', ' in')}"]
    if info.downtime is not None:
        limit = f" (limit {downtime_limit_ms} ms)" if downtime_limit_ms is not None else ""
        parts.append(f"guest stopped {human_ms(info.downtime)}{limit}")
    if info.ram:
        parts.append(f"{human_bytes(info.ram.transferred)} sent in {info.ram.dirty_sync_count} passes")
    return ", ".join(parts)
