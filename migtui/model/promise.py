"""What a piece of advice promised when it was followed, and what the migration then did.

A prediction is only worth what it does when followed: each action taken
(by a key, a policy, a trial) is kept with its promise, the guest's stop at
most (its cost's figure) and the time to the end (its ETA), and set against
QEMU's own figures once the migration ends: the ``downtime`` the guest was
stopped, and the seconds from the action to the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from migtui.model.advice import Action
from migtui.model.bandwidth_check import BandwidthCheck
from migtui.model.sample import Sample
from migtui.units import human_ms, human_seconds

ETA_KEPT = 2.0
"""An ETA is kept when the migration ended within this many times it (the tests' and bench's rule)."""


@dataclass(frozen=True)
class Promise:
    action: str
    """The action in a few words: 'max-bandwidth 110.0 MiB/s'."""
    name: str
    stop_ms: float | None
    """The guest's stop at most, as the action promised (None: it named none)."""
    eta_s: float | None
    taken_at: float
    """Monotonic time it was taken."""
    taken_wall: float
    status: str | None = None
    """How the migration ended (None: it runs)."""
    downtime_ms: int | None = None
    """QEMU's ``downtime``: how long the guest was stopped."""
    took_s: float | None = None
    """Seconds from the action to the end."""
    bandwidth: int | None = None
    """The max-bandwidth it set (None: not a bandwidth action)."""
    taken_pass: int | None = None
    """QEMU's dirty-sync-count when it was taken."""
    dirty_before: int | None = None
    """What the guest dirtied a pass when it was taken (the dirty set the advice was made on)."""
    check: BandwidthCheck | None = None
    """For a bandwidth action: whether it was enough, once two passes show it (:mod:`migtui.model.bandwidth_check`)."""

    @classmethod
    def of(cls, action: Action, at: float, wall: float) -> Promise:
        stop = action.cost.stop_ms if action.cost is not None else None
        bandwidth = action.sets.get("max-bandwidth") if action.kind == "parameter" else None
        return cls(action.short, action.name, stop, action.eta_s, at, wall,
                   bandwidth=bandwidth if isinstance(bandwidth, int) and not isinstance(bandwidth, bool) else None)

    @classmethod
    def recorded(cls, fields: dict[str, Any]) -> Promise:
        """A promise as a recording keeps it (its fields as JSON; raises TypeError for unknown ones)."""
        check = fields.get("check")
        return cls(**{**fields, "check": BandwidthCheck(**check) if isinstance(check, dict) else None})

    def settled(self, sample: Sample) -> Promise:
        """With the outcome of the migration whose final sample this is."""
        return replace(self, status=sample.status, downtime_ms=sample.info.downtime,
                       took_s=round(max(sample.at - self.taken_at, 0.0), 3))

    @property
    def stop_kept(self) -> bool | None:
        if self.stop_ms is None or self.downtime_ms is None or self.status != "completed":
            return None
        return self.downtime_ms <= self.stop_ms

    @property
    def eta_kept(self) -> bool | None:
        if self.eta_s is None or self.took_s is None:
            return None
        return self.status == "completed" and self.took_s <= ETA_KEPT * self.eta_s

    def to_json(self) -> dict[str, Any]:
        made = {"action": self.action, "name": self.name,
                "promised": {"stop_ms": None if self.stop_ms is None else round(self.stop_ms), "eta_s": self.eta_s},
                "outcome": None if self.status is None else {
                    "status": self.status, "downtime_ms": self.downtime_ms, "took_s": self.took_s,
                    "stop_kept": self.stop_kept, "eta_kept": self.eta_kept}}
        return made | ({"check": self.check.to_json()} if self.check is not None else {})

    def words(self) -> str:
        promised = [f"a stop of at most {human_ms(self.stop_ms)}" if self.stop_ms is not None else None,
                    f"the end in about {human_seconds(self.eta_s)}" if self.eta_s is not None else None]
        said = " and ".join(p for p in promised if p) or "nothing measurable"
        checked = f"; {self.check.words}" if self.check is not None else ""
        if self.status is None:
            return f"{self.action}: promised {said}; the migration runs{checked}"
        outcome = f"{self.status}"
        if self.downtime_ms is not None:
            outcome += f", guest stopped {human_ms(self.downtime_ms)}" + _kept(self.stop_kept)
        if self.took_s is not None:
            outcome += f", {self.took_s:.1f} s after it" + _kept(self.eta_kept)
        return f"{self.action}: promised {said}; {outcome}{checked}"


def _kept(kept: bool | None) -> str:
    return "" if kept is None else " (kept)" if kept else " (NOT kept)"
