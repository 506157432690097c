"""Everything migtui knows about one VM, kept by the fleet, read by the views."""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from migtui.model.advice import Action
from migtui.model.bandwidth_check import BandwidthCheck, Now, check_bandwidth
from migtui.model.convergence import MigrationSettings, Prediction, Verdict, predict
from migtui.model.events import QMPEvent
from migtui.model.history import History
from migtui.model.jobs import JobBook
from migtui.model.link import LinkState
from migtui.model.path import PathCapacity
from migtui.model.promise import Promise
from migtui.model.sample import Sample
from migtui.model.status import FINAL_STATES
from migtui.model.tracker import MigrationTracker

SNAPSHOT_JOBS = frozenset({"snapshot-save", "snapshot-load"})
"""Jobs that run on QEMU's migration code and report through query-migrate."""
BUSY_AFTER = 1.0
"""Seconds without an answer after which a connected VM is shown as busy."""
PREDICTION_WINDOW = 30.0
"""Seconds of samples the prediction reads (the bandwidth is their median throughput, and more)."""
SENT_READINGS = 3
"""Throughput readings since a bandwidth action before what QEMU sends at it is said."""


LIMIT_CHANGES = 200
"""Downtime-limit changes kept per VM (each a moment and a value)."""


@dataclass
class VMState:
    name: str
    group: str | None = None
    notes: str | None = None
    """The inventory's free text about the VM."""
    host: str | None = None
    """The inventory host its QMP socket is on (None: this machine)."""
    link: LinkState = LinkState.CONNECTING
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
    limits: deque[tuple[float, int | None]] = field(default_factory=lambda: deque(maxlen=LIMIT_CHANGES))
    """(time on the samples' clock, downtime-limit in ms) each time it was read different: the limit in
    force at each moment of the charts' history, not today's drawn across it."""
    moved_at: float | None = None
    """When the VM last moved to another host (a libvirt domain, its migration done; samples' clock):
    the settings read since are that host's."""
    tracker: MigrationTracker = field(init=False)
    events: History[QMPEvent] = field(default_factory=lambda: History(2000))
    jobs: JobBook = field(default_factory=JobBook)
    incoming: bool = False
    """Whether the VM is the destination of its current (or last) migration:
    it was waiting in ``inmigrate`` when the migration started. A destination
    reports "active" and, in postcopy, runs; this tells it from the source."""
    path: PathCapacity | None = None
    """What the path of its outgoing migration carries, where migtui found out (:mod:`migtui.qmp.path_probe`)."""

    followed: list[Promise] = field(default_factory=list)
    """The advice followed during the current (or last) migration, with what it promised."""
    _followed_for: int = field(default=-1, init=False, repr=False)
    """The migration (the tracker's count) ``followed`` belongs to."""
    _checked: dict[int, BandwidthCheck] = field(default_factory=dict, init=False, repr=False)
    """Bandwidth checks said (enough or not), by their promise's place in ``followed``: they stay said."""

    _predicted: tuple[Sample | None, bool, MigrationSettings, tuple[int, int], Prediction] | None = field(
        default=None, init=False, repr=False, compare=False)

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
        return self.link in (LinkState.DISCONNECTED, LinkState.CLOSED)

    @property
    def stale(self) -> bool:
        """The figures are from before the link went down: last seen, not current.

        A QEMU killed mid-migration leaves its last sample saying "active"; it
        must neither look live nor be counted or advised on."""
        return self.down and self.latest is not None

    @property
    def busy(self) -> bool:
        return self.link is LinkState.CONNECTED and self.busy_for >= BUSY_AFTER

    @property
    def snapshot_running(self) -> bool:
        """A snapshot job runs: QEMU's migration figures are that job's."""
        return any(job.type in SNAPSHOT_JOBS for job in self.jobs.running)

    def job_behind_migration_events(self) -> str | None:
        """The job whose MIGRATION events these are, if one runs: a snapshot job, or one whose type
        QEMU has not said yet (JOB_STATUS_CHANGE has none, and savevm blocks the monitor until done)."""
        for job in self.jobs.running:
            if job.type in SNAPSHOT_JOBS:
                return job.type
            if job.type == "?":
                return f"job {job.id}"
        return None

    def set_settings(self, parameters: dict[str, Any], capabilities: dict[str, bool], at: float) -> None:
        """What QEMU holds, read at ``at`` (the samples' clock); a new downtime-limit is kept in ``limits``."""
        self.parameters, self.capabilities = parameters, capabilities
        limit = parameters.get("downtime-limit")
        if not self.limits or self.limits[-1][1] != limit:
            self.limits.append((at, limit))

    def limit_steps(self, start: float, end: float) -> list[tuple[float, int]]:
        """The downtime-limit over [start, end] as (from, ms) steps, the first from ``start``: before
        the first read the first value read is taken (nothing earlier is known)."""
        known = [(at, limit) for at, limit in self.limits if limit is not None]
        if not known:
            return []
        before = [limit for at, limit in known if at <= start]
        steps = [(start, before[-1] if before else known[0][1])]
        for at, limit in known:
            if start < at <= end and limit != steps[-1][1]:
                steps.append((at, limit))
        return steps

    def limit_at_end(self) -> int | None:
        """The downtime-limit the latest migration ended under: the last read before its end. Not the
        one read now: an edit made since, or the destination's own once a libvirt domain moved there, is
        not what that migration switched over under. None while it runs, or when migtui saw nothing of
        it before its end."""
        ended: float | None = None
        for sample in reversed(self.tracker.history):
            if sample.status not in FINAL_STATES:
                break
            ended = sample.at  # the first sample that told the end, at last
        else:
            return None
        if ended is None or sample.status == "none":
            return None
        if self.moved_at is not None and sample.at <= self.moved_at < ended:
            ended = self.moved_at
        known = [limit for at, limit in self.limits if limit is not None and at < ended]
        return known[-1] if known else None

    @property
    def settings(self) -> MigrationSettings:
        made = settings_of(self.parameters, self.capabilities)
        return made if self.path is None else replace(made, path=self.path)

    def follow(self, action: Action, at: float | None = None, wall: float | None = None) -> None:
        """Keep ``action``'s promise: it is being taken now (by a key, a policy, a trial)."""
        if self._followed_for != self.tracker.migration_count:
            self.followed, self._followed_for = [], self.tracker.migration_count
            self._checked = {}
        promise = Promise.of(action, time.monotonic() if at is None else at, time.time() if wall is None else wall)
        latest, sets = self.latest, self.tracker.passes.dirty_sets()
        if promise.bandwidth is not None and latest is not None:  # what its check compares against
            promise = replace(promise, taken_pass=latest.passes, dirty_before=max(sets) if sets else None)
        self.followed.append(promise)
        self._predicted = None

    def promises(self) -> tuple[Promise, ...]:
        """The followed advice of this migration; with its outcome once the migration ended."""
        if self._followed_for != self.tracker.migration_count or not self.followed:
            return ()
        latest = self.latest
        if latest is not None and latest.status in FINAL_STATES:
            return tuple(promise.settled(latest) for promise in self.followed)
        return tuple(self.followed)

    def prediction(self) -> Prediction:
        """The VM's one prediction, which every view reads (the fleet's row, the brief, the panel,
        the advice keys, policies, the recorder, the metrics): made once per sample, settings (the path
        included), link state and advice taken."""
        latest, stale, settings = self.latest, self.stale, self.settings
        taken = (self._followed_for, len(self.followed))  # advice taken since: its promise is part of it
        kept = self._predicted
        if kept is not None and kept[0] is latest and kept[1:4] == (stale, settings, taken):
            return kept[4]
        if stale:
            made = Prediction(Verdict.UNKNOWN, f"link {self.link}: no prediction from the figures last seen")
        else:
            made = predict(self.tracker.history.window(PREDICTION_WINDOW), settings, self.tracker.stalled,
                           self.tracker.passes, None if latest is None else self.tracker.frozen_for(latest.at))
        if (promised := self._with_checks(self.promises(), made)):
            checks = [p.check.words for p in promised if p.check is not None]
            made = replace(made, followed=promised, reasons=[*made.reasons, *checks])
        self._predicted = (latest, stale, settings, taken, made)
        return made

    def _with_checks(self, promises: tuple[Promise, ...], made: Prediction) -> tuple[Promise, ...]:
        """The promises, each bandwidth action's with whether it was enough (:mod:`migtui.model.bandwidth_check`)."""
        latest = self.latest
        if latest is None or not any(p.taken_pass is not None for p in promises):
            return promises
        current = self.tracker.passes.current
        checked = []
        for index, promise in enumerate(promises):
            if promise.bandwidth is None or promise.taken_pass is None:
                checked.append(promise)
                continue
            check = self._checked.get(index)
            if check is None:
                sent = [s.throughput for s in self.tracker.history.window(PREDICTION_WINDOW)
                        if s.at > promise.taken_at and s.throughput > 0]
                converging = {Verdict.CONVERGING: True, Verdict.NOT_CONVERGING: False}.get(made.verdict)
                following = made.actions[0] if made.actions else None
                now = Now(latest.status, latest.passes, current.start_remaining if current else None,
                          statistics.median(sent) if len(sent) >= SENT_READINGS else None,
                          self.settings.downtime_limit_s, converging,
                          None if following is None else following.short + (
                              f" ({following.cost.short})" if following.cost is not None else ""))
                check = check_bandwidth(promise.bandwidth, promise.taken_pass, promise.dirty_before, now)
                if check.settled:
                    self._checked[index] = check  # said once: a postcopy's later completion proves nothing
            checked.append(replace(promise, check=check))
        return tuple(checked)


def settings_of(parameters: dict[str, Any], capabilities: dict[str, bool]) -> MigrationSettings:
    """What the prediction needs of a VM's ``query-migrate-parameters`` and capabilities."""
    defaults = MigrationSettings()
    bandwidth = parameters.get("max-bandwidth")
    switchover = parameters.get("avail-switchover-bandwidth")
    return MigrationSettings(
        downtime_limit_ms=int(parameters.get("downtime-limit", defaults.downtime_limit_ms)),
        max_bandwidth=int(bandwidth) if bandwidth else None,
        auto_converge=bool(capabilities.get("auto-converge")),
        postcopy_ram=bool(capabilities.get("postcopy-ram")),
        throttle_initial=int(parameters.get("cpu-throttle-initial", defaults.throttle_initial)),
        throttle_increment=int(parameters.get("cpu-throttle-increment", defaults.throttle_increment)),
        max_throttle=int(parameters.get("max-cpu-throttle", defaults.max_throttle)),
        avail_switchover_bandwidth=None if switchover is None else int(switchover),
        max_postcopy_bandwidth=int(parameters.get("max-postcopy-bandwidth") or 0) or None,
    )
