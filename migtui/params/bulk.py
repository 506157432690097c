"""One request to several VMs at once: a preview per VM, then a result per VM.

Each VM validates the request against the schema of the QEMU it runs (a
member an older QEMU lacks is refused for that VM only) and compares it with
what its poller last read (:func:`plan_many`: old → new for every VM before
anything is sent). :func:`send_many` then sends each VM its own change set
through the fleet, which reads the VM again before it returns. The VMs run
concurrently and one VM's failure (invalid for its QEMU, refused by QEMU,
unreachable, read-only) never stops the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migtui.errors import MigtuiError
from migtui.params.apply import Applied, send_changes
from migtui.params.forms import forms_of
from migtui.params.settings import VMSettings
from migtui.qapi.changes import ChangeSet
from migtui.qapi.errors import FieldErrors
from migtui.qmp.fleet_view import DashboardFleet


@dataclass(frozen=True)


class BulkPlan:
    """What the request would change on one VM, from the values its poller holds."""

    vm: str
    settings: VMSettings | None = None
    changes: ChangeSet | None = None
    """Set when the VM's QEMU takes the request (possibly with nothing to change)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Values this VM's QEMU does not take (nothing will be sent to it)."""
    failure: str | None = None
    """Why the VM's schema could not be read, in one line."""

    @property
    def sendable(self) -> bool:
        return bool(self.changes)

    @property
    def summary(self) -> str:
        if self.changes is not None:
            return self.changes.text if self.changes else "nothing to change"
        if self.errors:
            return "not sent: " + "; ".join(f"{name}: {message}" for name, message in self.errors.items())
        return self.failure or "failed"


@dataclass(frozen=True)


class BulkResult:
    vm: str
    applied: Applied | None = None
    """Set when the VM took the request (possibly with nothing to change)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Values this VM's QEMU does not take (nothing was sent to it)."""
    failure: str | None = None
    """QEMU's refusal or why the VM could not be reached, in one line."""

    @property
    def ok(self) -> bool:
        return self.applied is not None

    @property
    def summary(self) -> str:
        if self.applied is not None:
            if not self.applied.changes:
                return "nothing to change"
            return self.applied.text
        if self.errors:
            return "not sent: " + "; ".join(f"{name}: {message}" for name, message in self.errors.items())
        return self.failure or "failed"


async def plan_many(fleet: DashboardFleet, names: Iterable[str], parameters: Mapping[str, Any],
                    capabilities: Mapping[str, Any]) -> dict[str, BulkPlan]:
    """What the same values would change on each VM of ``names``, in the same order; nothing is sent."""
    plans = await asyncio.gather(*(_plan_one(fleet, name, parameters, capabilities) for name in names))
    return {plan.vm: plan for plan in plans}


async def send_many(fleet: DashboardFleet, plans: Mapping[str, BulkPlan]) -> dict[str, BulkResult]:
    """Send each plan's changes through the fleet; a result per plan, in the same order."""
    results = await asyncio.gather(*(_send_one(fleet, plan) for plan in plans.values()))
    return {result.vm: result for result in results}


async def apply_to_many(fleet: DashboardFleet, names: Iterable[str], parameters: Mapping[str, Any],
                        capabilities: Mapping[str, Any]) -> dict[str, BulkResult]:
    """Plan and send at once (no one to show the preview to)."""
    return await send_many(fleet, await plan_many(fleet, names, parameters, capabilities))


async def _plan_one(fleet: DashboardFleet, vm: str, parameters: Mapping[str, Any],
                    capabilities: Mapping[str, Any]) -> BulkPlan:
    state = fleet.states[vm]
    try:
        forms = await forms_of(fleet.session(vm))
        if not state.parameters:
            return BulkPlan(vm, failure="its parameters were not read yet")
        settings = VMSettings(vm, forms, dict(state.parameters), dict(state.capabilities))
        changes = settings.changes(settings.request(parameters, capabilities))
    except FieldErrors as invalid:
        return BulkPlan(vm, errors=invalid.errors)
    except MigtuiError as error:
        return BulkPlan(vm, failure=str(error))
    return BulkPlan(vm, settings, changes)


async def _send_one(fleet: DashboardFleet, plan: BulkPlan) -> BulkResult:
    if plan.settings is None or plan.changes is None:
        return BulkResult(plan.vm, errors=plan.errors, failure=plan.failure)
    settings, changes = plan.settings, plan.changes
    if not changes:
        return BulkResult(plan.vm, applied=Applied(plan.vm, (), 0.0, settings))
    try:
        at = await fleet.change(plan.vm, lambda session: send_changes(session, settings, changes))
    except MigtuiError as error:
        return BulkResult(plan.vm, failure=str(error))
    state = fleet.states[plan.vm]
    return BulkResult(plan.vm, applied=Applied(plan.vm, changes.changes, at,
                                               settings.with_values(dict(state.parameters), dict(state.capabilities))))
