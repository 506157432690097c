"""Everything migtui knows about one VM, kept by the fleet, read by the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migtui.model.convergence import MigrationSettings, Prediction, Verdict, predict
from migtui.model.events import QMPEvent
from migtui.model.history import History
from migtui.model.jobs import JobBook
from migtui.model.sample import Sample
from migtui.model.tracker import MigrationTracker

BUSY_AFTER = 1.0
"""Seconds without an answer after which a connected VM is shown as busy."""


@dataclass
class VMState:
    name: str
    group: str | None = None
    notes: str | None = None
    """The inventory's free text about the VM."""
    link: str = "connecting"
    link_error: str | None = None
    run_state: str | None = None
    """QEMU's run state (running, paused, postmigrate, inmigrate, restore-vm...)."""
    version: str | None = None
    poll_error: str | None = None
    """Why the last poll failed while the link stayed up (an answer migtui could
    not read); None once a poll succeeds again."""
    busy_for: float = 0.0
    """Seconds the oldest unanswered command has waited (a snapshot save keeps QMP silent)."""
    parameters: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, bool] = field(default_factory=dict)
    tracker: MigrationTracker = field(init=False)
    events: History[QMPEvent] = field(default_factory=lambda: History(2000))
    jobs: JobBook = field(default_factory=JobBook)
    incoming: bool = False
    """Whether the VM is the destination of its current (or last) migration:
    it was waiting in ``inmigrate`` when the migration started. A destination
    reports "active" and, in postcopy, runs; this tells it from the source."""

    def __post_init__(self) -> None:
        self.tracker = MigrationTracker(self.name)

    @property
    def latest(self) -> Sample | None:
        return self.tracker.history.latest

    @property
    def migrating_out(self) -> bool:
        """A migration of this VM runs, and this VM is its source (the side that can cancel or switch it)."""
        sample = self.latest
        return (not self.down and sample is not None and sample.active and not self.incoming
                and self.run_state != "inmigrate")

    @property
    def down(self) -> bool:
        """The link fell (or was closed): nothing the VM does now reaches migtui."""
        return self.link in ("disconnected", "closed")

    @property
    def stale(self) -> bool:
        """The figures are from before the link went down: last seen, not current.

        A QEMU killed mid-migration leaves its last sample saying "active"; it
        must neither look live nor be counted or advised on."""
        return self.down and self.latest is not None

    @property
    def busy(self) -> bool:
        return self.link == "connected" and self.busy_for >= BUSY_AFTER

    @property
    def settings(self) -> MigrationSettings:
        params, caps = self.parameters, self.capabilities
        bandwidth = params.get("max-bandwidth")
        return MigrationSettings(
            downtime_limit_ms=int(params.get("downtime-limit", 300)),
            max_bandwidth=int(bandwidth) if bandwidth else None,
            auto_converge=bool(caps.get("auto-converge")),
            postcopy_ram=bool(caps.get("postcopy-ram")),
        )

    def prediction(self, window: float = 30.0) -> Prediction:
        if self.stale:
            return Prediction(Verdict.UNKNOWN, f"link {self.link}: no prediction from the figures last seen")
        return predict(self.tracker.history.window(window), self.settings, self.tracker.stalled)
