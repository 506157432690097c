"""The alert engine: a fleet subscriber that fires the inventory's ``[[alert]]`` rules.

It reads the same updates as the recorder and the exporter. A migration's
end (failed, cancelled, completed, downtime-over) is a moment, seen in the
sample whose status turns to it, on the source only (the destination ends
the same migration). A state (stalled, no-progress,
host-down) is looked at on every link change and once a second, since a
link that stays down sends no updates; it fires once it has held for the
rule's ``after``. Each occurrence fires once: a stalled or unmoving migration
once per migration (a verdict that wavers does not page twice), a host once
per time it goes down.

A fired alert is published to the fleet's subscribers as an
:class:`~migtui.qmp.updates.AlertRaised` (the recorder keeps it, the exporter
counts it, the dashboard shows it), and its command, if any, runs in the
background with its time limit: a command that fails or hangs is logged
through ``log`` and never stops anything else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from migtui.alerts.hook import run_hook
from migtui.alerts.rule import AlertRule, Condition
from migtui.model.convergence import Prediction, Verdict
from migtui.model.link import LinkState
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.qmp.fleet import Fleet
from migtui.qmp.tasks import cancel_all
from migtui.qmp.updates import AlertRaised, Aspect, SampleTaken, Update, VMChanged

LOOK_EVERY = 1.0
"""Seconds between two looks at the lasting conditions of every VM (a prediction each for those migrating)."""
ENDINGS = {"failed": Condition.FAILED, "cancelled": Condition.CANCELLED, "completed": Condition.COMPLETED}
VERDICTS = {Condition.STALLED: frozenset({Verdict.NOT_CONVERGING}),
            Condition.NO_PROGRESS: frozenset({Verdict.NO_PROGRESS, Verdict.POSTCOPY_STALLED})}
"""The prediction's verdicts in which each lasting condition of a migration holds (no-progress: its stream
stands still, in precopy or in postcopy, where the guest on the destination waits for its memory)."""


class AlertEngine:
    def __init__(self, fleet: Fleet, rules: Sequence[AlertRule], *, log: Callable[[str], None],
                 look_every: float = LOOK_EVERY) -> None:
        """``fleet``: a :class:`~migtui.qmp.fleet.Fleet` (``states``, ``subscribe``, ``publish``);
        ``log`` takes one line for each command that failed."""
        self.fleet = fleet
        self.rules = list(rules)
        self.log = log
        self.look_every = look_every
        self._lasting = [(index, rule) for index, rule in enumerate(self.rules) if rule.when.lasting]
        self._since: dict[tuple[int, str], tuple[float, float]] = {}
        """(rule, VM) -> when the state began to hold (monotonic, wall)."""
        self._fired: set[tuple[int, str]] = set()
        self._last_status: dict[str, str] = {}
        self._waited: set[str] = set()
        """VMs seen waiting for an incoming migration (run state inmigrate) since their last migration's end:
        the end they see next is a destination's. (``VMState.incoming`` is set only when a poll sees the
        migration going on, which a destination's monitor, busy loading, may not answer in time.)"""
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None

    # -- life ----------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe = self.fleet.subscribe(self)
        if self._lasting:
            self._tasks.append(asyncio.create_task(self._look_loop(), name="alerts-look"))

    async def close(self) -> None:
        """Stop looking; commands still running are killed (their process groups)."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        await cancel_all(self._tasks)

    async def __aenter__(self) -> AlertEngine:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- what fires ----------------------------------------------------------

    def __call__(self, update: Update) -> None:
        if isinstance(update, SampleTaken):
            self._moment(update.vm, update.sample)
        elif isinstance(update, VMChanged) and update.aspect is Aspect.LINK:
            self._look(update.vm)
        elif isinstance(update, VMChanged) and update.aspect is Aspect.RUN_STATE:
            state = self.fleet.states.get(update.vm)
            if state is not None and state.run_state == "inmigrate":
                self._waited.add(update.vm)

    async def _look_loop(self) -> None:
        while True:
            for vm in list(self.fleet.states):
                self._look(vm)
            await asyncio.sleep(self.look_every)

    def _moment(self, vm: str, sample: Sample) -> None:
        # A snapshot job's save or load reads as a migration in query-migrate: it is none.
        status = "none" if sample.snapshot else sample.status
        before = self._last_status.get(vm)
        self._last_status[vm] = status
        state = self.fleet.states.get(vm)
        # An end seen after another status: a migration that started and ended between two polls
        # (none -> failed) counts too; the first sample after connecting is no news (before is None).
        if before is None or before == status or status not in ENDINGS or state is None:
            return
        if state.incoming or vm in self._waited:
            self._waited.discard(vm)  # a destination: its migration ended; what it sends out next is its own
            return
        for index, rule in enumerate(self.rules):
            if rule.when is ENDINGS[status]:
                self._fire(index, rule, state, _ending(sample), sample.wall)
            elif rule.when is Condition.DOWNTIME_OVER and status == "completed":
                budget = rule.downtime_ms or state.parameters.get("downtime-limit")
                downtime = sample.info.downtime
                if budget is not None and downtime is not None and downtime > int(budget):
                    self._fire(index, rule, state, f"downtime {downtime} ms, over the budget of {budget} ms",
                               sample.wall)

    def _look(self, vm: str) -> None:
        state = self.fleet.states.get(vm)
        if state is None or not self._lasting:
            return
        now = time.monotonic()
        prediction: list[Prediction] = []  # made at most once a look, and only for a migration

        def predicted() -> Prediction:
            if not prediction:
                prediction.append(state.prediction())
            return prediction[0]

        for index, rule in self._lasting:
            key = (index, vm)
            summary = _holds(rule.when, state, predicted)
            if summary is None:
                self._since.pop(key, None)
                if rule.when is Condition.HOST_DOWN or not state.migrating_out:
                    self._fired.discard(key)  # the occurrence is over: the next one fires again
                continue
            began, began_wall = self._since.setdefault(key, (now, time.time()))
            if key not in self._fired and now - began >= rule.after:
                self._fire(index, rule, state, summary, began_wall)

    def _fire(self, index: int, rule: AlertRule, state: VMState, summary: str, since: float) -> None:
        self._fired.add((index, state.name))
        alert = describe(rule, index, state, summary, since, self.fleet.where(state.name))
        self.fleet.publish(AlertRaised(state.name, rule.when.value, summary, alert))
        if rule.run:
            self._tasks.append(asyncio.create_task(self._run(rule, alert), name=f"alert-{index}-{state.name}"))

    async def _run(self, rule: AlertRule, alert: dict[str, Any]) -> None:
        failure = await run_hook(rule.argv, alert, rule.timeout)
        if failure:
            self.log(f"alert {rule.when} on {alert['vm']}: {failure}")
        task = asyncio.current_task()
        if task in self._tasks:
            self._tasks.remove(task)


def _holds(when: Condition, state: VMState, predicted: Callable[[], Prediction]) -> str | None:
    """What to say when the lasting condition ``when`` holds for ``state`` now; None when it does not."""
    if when is Condition.HOST_DOWN:
        if state.link is not LinkState.DISCONNECTED:
            return None
        where = f" on host {state.host}" if state.host else ""
        return f"cannot reach the VM{where}: {state.link_error or 'link down'}"
    if not state.migrating_out:
        return None
    prediction = predicted()
    if prediction.verdict not in VERDICTS[when]:
        return None
    reasons = "; ".join(prediction.reasons)
    return f"{prediction.summary}: {reasons}" if reasons else prediction.summary


def _ending(sample: Sample) -> str:
    info = sample.info
    if info.status == "failed":
        return f"migration failed: {info.error_desc}" if info.error_desc else "migration failed"
    if info.status == "cancelled":
        return "migration cancelled"
    downtime = f", downtime {info.downtime} ms" if info.downtime is not None else ""
    return f"migration completed in {(info.total_time or 0) / 1000:.1f} s{downtime}"


def describe(rule: AlertRule, index: int, state: VMState, summary: str, since: float, host: str) -> dict[str, Any]:
    """The alert as its command gets it (docs/alerts.md lists the keys); ``host`` as the metrics label it."""
    return {
        "when": rule.when.value,
        "vm": state.name,
        "host": host,
        "group": state.group,
        "summary": summary,
        "time": _iso(time.time()),
        "since": _iso(since),
        "rule": index,
        "link": state.link.value,
        "migration": figures(state.latest, state),
    }


def figures(sample: Sample | None, state: VMState) -> dict[str, Any] | None:
    """The migration as last sampled (None: never seen one)."""
    if sample is None:
        return None
    info, ram = sample.info, sample.info.ram
    limit = state.parameters.get("downtime-limit")
    return {
        "status": info.status,
        "total_time_ms": info.total_time,
        "remaining_bytes": ram.remaining if ram else None,
        "transferred_bytes": ram.transferred if ram else None,
        "total_bytes": ram.total if ram else None,
        "dirty_rate_bytes_per_s": round(sample.dirty_rate) if ram else None,
        "throughput_bytes_per_s": round(sample.throughput) if ram else None,
        "passes": ram.dirty_sync_count if ram else None,
        "expected_downtime_ms": info.expected_downtime,
        "downtime_ms": info.downtime,
        "downtime_limit_ms": None if limit is None else int(limit),
        "error": info.error_desc,
    }


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
