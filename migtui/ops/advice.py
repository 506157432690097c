"""Take one action the prediction advises (a parameter, a capability, postcopy), after a confirmation.

The command it sends is the engine's (:func:`migtui.qmp.steering.take`), the
one a policy's step sends too; this module adds what the admin is asked and told.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from migtui.model.advice import Action
from migtui.model.controls import Control
from migtui.ops.question import Question
from migtui.qmp.session import VMSession
from migtui.qmp.steering import take

CONTROL = Control.STEER


def old_to_new(action: Action, parameters: dict[str, object], capabilities: dict[str, bool]) -> str:
    """'downtime-limit: 300 → 3900'."""
    if action.kind == "parameter":
        return ", ".join(f"{name}: {parameters.get(name, '?')} → {value}" for name, value in action.sets.items())
    if action.kind == "capability":
        old = "on" if capabilities.get(action.name) else "off"
        return f"{action.name}: {old} → {'on' if action.value else 'off'}"
    return "precopy → postcopy"


def question(vm: str, action: Action, parameters: dict[str, object], capabilities: dict[str, bool]) -> Question:
    change = old_to_new(action, parameters, capabilities)
    text = f"{action.text}.\n\n{change}"
    if action.cost is not None:
        text += f"\n\nCost to the guest: {action.cost.words}."
    if action.eta_s:
        text += f"\n\nBy the model, the migration then completes in about {action.eta_s:.0f} s."
    return Question(f"Advice for {vm}", text, yes="Apply")


def step(action: Action) -> Callable[[VMSession], Awaitable[None]]:
    """The change that takes ``action``, for the fleet to make."""
    async def taking(session: VMSession) -> None:
        await take(session, action)

    return taking


def outcome(vm: str, change: str) -> str:
    return f"{vm}: {change}"
