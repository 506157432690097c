"""A migration trial: migrate a lab VM, watch the model, follow one piece of advice, time the outcome.

The tests and ``bench/bench_advice.py`` check the prediction the only way
that means anything: by doing what it says on a real migration and seeing
whether the migration then ends as and when it said.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from migtui.inventory import VMEntry
from migtui.lab.control import ControlClient
from migtui.lab.lab import Lab
from migtui.model.advice import Action
from migtui.model.convergence import Prediction, Verdict
from migtui.model.promise import Promise
from migtui.model.status import FINAL_STATES
from migtui.model.vm_state import VMState
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, cancel, start_migration
from migtui.qmp.session import VMSession
from migtui.qmp.steering import take

MiB = 1 << 20


@dataclass(frozen=True)
class Scenario:
    name: str
    dirty_mib: float
    dirty_rate_mib_s: float
    bandwidth_mib_s: float
    downtime_ms: int
    mem_mib: int = 128
    capabilities: dict[str, bool] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)
    """Other migration parameters the migration starts with (QEMU's spelling)."""
    qemu: str | None = None
    """The source's QEMU binary (None: the lab's)."""
    dst_qemu: str | None = None
    """The destination's QEMU binary (None: the source's)."""
    machine: str = "pc"
    """The machine type: one both releases know when they differ (pc-i440fx-7.2)."""

    @property
    def plan(self) -> MigrationPlan:
        return MigrationPlan({"max-bandwidth": int(self.bandwidth_mib_s * MiB), "downtime-limit": self.downtime_ms,
                              **self.parameters}, dict(self.capabilities))


@dataclass
class TrialResult:
    scenario: Scenario
    predictions: list[tuple[float, Prediction]] = field(default_factory=list)
    """(seconds since the migration started, the prediction then)."""
    followed: Action | None = None
    followed_at: float | None = None
    """Seconds since the start when the followed action was done (QEMU took it)."""
    status: str = "active"
    ended_at: float | None = None
    """Seconds since the start when the migration ended, by QEMU's total-time where it completed."""
    downtime_ms: int | None = None
    promises: tuple[Promise, ...] = ()
    """The advice followed, with what it promised and what the migration then did."""

    def verdict_at(self, seconds: float) -> Verdict:
        """The verdict at ``seconds`` in (the last one, if the migration ended before)."""
        seen = [p for at, p in self.predictions if at <= seconds and p.verdict is not Verdict.FINISHED]
        return seen[-1].verdict if seen else Verdict.MEASURING

    @property
    def advice(self) -> Prediction | None:
        """The prediction whose action was followed."""
        if self.followed_at is None:
            return None
        return next(p for at, p in reversed(self.predictions) if at <= self.followed_at)

    @property
    def took_after_following(self) -> float | None:
        if self.ended_at is None or self.followed_at is None:
            return None
        return self.ended_at - self.followed_at


Chooser = Callable[[Prediction], Action | None]


async def run_trial(lab: Lab, scenario: Scenario, *, timeout: float, follow: str | Chooser | None = None,
                    settle_passes: int = 3, settle_s: float = 1.0, poll: float = 0.2) -> TrialResult:
    """Migrate a fresh source to a fresh destination; with ``follow``, take that action
    (by name, or as chosen) once the model has said for ``settle_s`` seconds, and from
    pass ``settle_passes`` on, that the migration will not converge.

    Ends when the migration does or after ``timeout`` seconds (then it is cancelled).
    """
    src = await lab.start_source(f"{scenario.name}", mem_mib=scenario.mem_mib, dirty_mib=scenario.dirty_mib,
                                 dirty_rate_mib_s=scenario.dirty_rate_mib_s, qemu=scenario.qemu,
                                 machine=scenario.machine)
    dst = await lab.start_destination(f"{scenario.name}-d", like=src, qemu=scenario.dst_qemu or scenario.qemu)
    result = TrialResult(scenario)
    fleet = Fleet([VMEntry(name=vm.name, qmp=str(vm.qmp_path)) for vm in (src, dst)], fast=poll, slow=poll)
    try:
        async with fleet:
            await fleet.wait_connected(15)
            await _written_once(lab, src.name)
            state = fleet.states[src.name]

            async def start(session: VMSession) -> float:
                await start_migration(session, fleet.session(dst.name), scenario.plan)
                return time.monotonic()

            started = await fleet.change(src.name, start, also=[dst.name])
            steady_since: float | None = None
            while time.monotonic() - started < timeout:
                await asyncio.sleep(poll)
                now = time.monotonic() - started
                sample = state.latest
                if sample is None:
                    continue
                if sample.status in FINAL_STATES:
                    # QEMU's own clock says when it ended (total-time counts from the migrate command,
                    # a moment before ``started``): a poll sees it up to an interval later.
                    total = sample.info.total_time
                    result.status = sample.status
                    result.ended_at = min(now, total / 1000) if total and sample.status == "completed" else now
                    # QEMU sets "completed" before the downtime it reports: ask again for the settled figure.
                    result.downtime_ms = await _settled_downtime(lab, src.name, sample.info.downtime)
                    # The prediction's promises: with their outcome, and a bandwidth action's check.
                    result.promises = tuple(replace(p, downtime_ms=result.downtime_ms) if p.status == "completed"
                                            else p for p in state.prediction().followed)
                    break
                prediction = state.prediction()
                result.predictions.append((now, prediction))
                if prediction.verdict is not Verdict.NOT_CONVERGING:
                    steady_since = None
                elif steady_since is None:
                    steady_since = now
                if (follow is not None and result.followed is None and steady_since is not None
                        and now - steady_since >= settle_s and _settled(prediction, state, settle_passes)):
                    action = _choose(prediction, follow)
                    if action is not None:
                        state.follow(action)
                        await fleet.change(src.name, partial(take, action=action))
                        # An ETA counts from the action done: once QEMU took it and migtui read it back.
                        result.followed, result.followed_at = action, time.monotonic() - started
            else:
                await fleet.change(src.name, cancel)
    finally:
        await lab.stop(dst.name)
        await lab.stop(src.name)
    return result


def _settled(prediction: Prediction, state: VMState, passes: int) -> bool:
    latest = state.latest
    return (prediction.verdict is Verdict.NOT_CONVERGING and latest is not None
            and latest.passes >= passes and bool(prediction.actions))


def _choose(prediction: Prediction, follow: str | Chooser) -> Action | None:
    if callable(follow):
        return follow(prediction)
    return next((a for a in prediction.actions if a.name == follow), None)


async def _settled_downtime(lab: Lab, name: str, seen: int | None) -> int | None:
    async with await ControlClient.connect(lab[name].ctl_path) as client:
        downtime = (await client.execute("query-migrate")).get("downtime")
    return int(downtime) if downtime is not None else seen


async def _written_once(lab: Lab, name: str) -> None:
    """Zero pages cost nothing to migrate: start once the guest wrote its range."""
    async with await ControlClient.connect(lab[name].ctl_path) as client:
        await client.wait_guest(passes=1, timeout=60)
