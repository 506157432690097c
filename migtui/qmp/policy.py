"""A policy at work on one migration: it watches the model and takes steps through the gate.

The runner is fed every sample of the source (by the fleet, or by ``migtui
migrate --wait``) and, at most one step a pass, takes the step the policy
allows (:func:`migtui.model.policy.next_step`). Every command goes through
the session, hence the gate: read-only refuses it there and the audit log
records it. In a fleet a step is the fleet's change, which reads the VM
again, so the next decision and every view see what QEMU holds after it.
An observing policy only says what it would have done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from migtui.errors import MigtuiError
from migtui.model.policy import Policy, next_step
from migtui.model.vm_state import VMState
from migtui.qmp.migration import cancel, start_postcopy
from migtui.qmp.replies import capability_states
from migtui.qmp.session import VMSession
from migtui.qmp.steering import take
from migtui.qmp.updates import PolicyStep

log = logging.getLogger(__name__)

Step = Callable[[VMSession], Awaitable[object]]


@dataclass
class PolicyRunner:
    policy: Policy
    session: VMSession
    state: VMState
    tell: Callable[[PolicyStep], None]
    change: Callable[[Step], Awaitable[object]] | None = None
    """How a step is made: the fleet's change. Without one (``migtui migrate
    --wait``) it runs on the session, and the settings are read again here."""
    _last_pass: int = -1
    _told: tuple[object, ...] | None = None
    _deadline_taken: bool = False
    _busy: bool = False

    @property
    def next(self) -> str:
        """What the policy would do next, in words (for the VM screen)."""
        if not self.state.migrating_out:
            return "waiting for a migration"
        step = next_step(self.policy, self.state.prediction(), self.state.parameters)
        return step.text if step else "nothing: the migration converges, or the bounds are reached"

    async def on_sample(self) -> None:
        """Decide on the newest sample; never overlaps itself."""
        if self._busy:
            return
        self._busy = True
        try:
            await self._decide()
        except MigtuiError as error:  # QEMU refused, or read-only: say so, keep watching
            self.tell(PolicyStep(self.session.name, self.policy.name, "refused", str(error), False))
        finally:
            self._busy = False

    async def _decide(self) -> None:
        sample = self.state.latest
        if sample is None or not self.state.migrating_out or sample.info.ram is None:
            return
        deadline = self.policy.deadline
        if deadline and not self._deadline_taken and sample.info.total_time is not None:
            allowed = deadline.seconds(sample.info.ram.total)
            if sample.info.total_time / 1000 > allowed:
                self._deadline_taken = True
                await self._on_deadline(allowed)
                return
        if sample.passes <= self._last_pass:
            return  # one step a pass: the next pass shows what the last step did
        prediction = self.state.prediction()
        step = next_step(self.policy, prediction, self.state.parameters)
        if step is None:
            return
        if not self.policy.acts:
            if self._told != (step.name, step.value):
                self._told = (step.name, step.value)
                self.tell(PolicyStep(self.session.name, self.policy.name, "would", step.text, False))
            return
        self._last_pass = sample.passes
        self.state.follow(step)
        await self._make(lambda session: take(session, step))
        self.tell(PolicyStep(self.session.name, self.policy.name, "took", step.text, True))

    async def _on_deadline(self, allowed: float) -> None:
        action = self.policy.deadline.action if self.policy.deadline else "abort"
        postcopy_on = bool(self.state.capabilities.get("postcopy-ram"))
        if action == "postcopy" and not postcopy_on:
            action = "pause"  # Nova's force_complete: postcopy if permitted, else pause the guest
        what = {"abort": "cancelled the migration", "postcopy": "switched to postcopy",
                "pause": "paused the guest so that the migration completes"}[action]
        text = f"deadline of {allowed:.0f} s passed: {what}"
        if not self.policy.acts:
            self.tell(PolicyStep(self.session.name, self.policy.name, "would", text, False))
            return
        if action == "abort":
            await self._make(cancel)
        elif action == "postcopy":
            await self._make(start_postcopy)
        else:
            await self._make(lambda session: session.execute("stop"))
        self.tell(PolicyStep(self.session.name, self.policy.name, "took", text, True))

    async def _make(self, step: Step) -> None:
        if self.change is not None:
            await self.change(step)
            return
        await step(self.session)
        parameters = await self.session.query("query-migrate-parameters")
        capabilities = capability_states(await self.session.query_list("query-migrate-capabilities"))
        self.state.set_settings(parameters, capabilities, time.monotonic())
