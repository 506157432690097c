"""Carrying out one piece of advice (a parameter, a capability, postcopy) through the gate.

The dashboard's advice keys (:mod:`migtui.ops.advice`) and the policies share
this, so an action means the same command whoever takes it.
"""

from __future__ import annotations

from migtui.model.advice import Action
from migtui.qmp.migration import set_capabilities, start_postcopy
from migtui.qmp.session import VMSession


async def take(session: VMSession, action: Action) -> None:
    if action.kind == "parameter":  # a combined action's parameters in one command: all or none
        await session.execute("migrate-set-parameters", action.sets)
    elif action.kind == "capability":
        await set_capabilities(session, {action.name: bool(action.value)})
    else:
        await start_postcopy(session)
