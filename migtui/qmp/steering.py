"""Carrying out one piece of advice (a parameter, a capability, postcopy) through the gate.

The dashboard's advice keys and the policies share this, so an action means
the same command whoever takes it.
"""

from __future__ import annotations

from migtui.model.advice import Action
from migtui.qmp.migration import set_capabilities, start_postcopy
from migtui.qmp.session import VMSession


async def take(session: VMSession, action: Action) -> None:
    if action.kind == "parameter":
        await session.execute("migrate-set-parameters", {action.name: action.value})
    elif action.kind == "capability":
        await set_capabilities(session, {action.name: bool(action.value)})
    else:
        await start_postcopy(session)


def old_to_new(action: Action, parameters: dict[str, object], capabilities: dict[str, bool]) -> str:
    """'downtime-limit: 300 → 3900' for a confirmation."""
    if action.kind == "parameter":
        return f"{action.name}: {parameters.get(action.name, '?')} → {action.value}"
    if action.kind == "capability":
        old = "on" if capabilities.get(action.name) else "off"
        return f"{action.name}: {old} → {'on' if action.value else 'off'}"
    return "precopy → postcopy"
