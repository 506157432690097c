"""Take one action the prediction advises (a parameter, a capability, postcopy), after a confirmation.

The command it sends is the engine's (:func:`migtui.qmp.steering.take`), the
one a policy's step sends too; this module adds what the admin is asked and told.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from migtui.model.advice import Action
from migtui.model.controls import Control
from migtui.ops.question import Question
from migtui.qapi.human_values import human_number
from migtui.qmp.session import VMSession
from migtui.qmp.steering import take
from migtui.units import human_seconds

CONTROL = Control.STEER


def old_to_new(action: Action, parameters: dict[str, object], capabilities: dict[str, bool]) -> str:
    """'downtime-limit: 300 ms → 3900 ms', 'max-bandwidth: 32 MiB/s → 64 MiB/s'."""
    if action.kind == "parameter":
        return ", ".join(f"{name}: {_in_unit(name, parameters.get(name, '?'))} → {_in_unit(name, value)}"
                         for name, value in action.sets.items())
    if action.kind == "capability":
        old = "on" if capabilities.get(action.name) else "off"
        return f"{action.name}: {old} → {'on' if action.value else 'off'}"
    return "precopy → postcopy"


def _in_unit(name: str, value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return str(value)
    return human_number(name, value) or str(value)


def question(vm: str, action: Action, parameters: dict[str, object], capabilities: dict[str, bool]) -> Question:
    change = old_to_new(action, parameters, capabilities)
    text = f"{action.text}.\n\n{change}"
    if action.cost is not None:
        text += f"\n\nCost to the guest: {action.cost.words}."
    if action.eta_s:
        text += f"\n\nBy the model, the migration then completes in about {human_seconds(action.eta_s)}."
    return Question(f"Advice for {vm}", text, yes="Apply")


def step(action: Action) -> Callable[[VMSession], Awaitable[None]]:
    """The change that takes ``action``, for the fleet to make."""
    async def taking(session: VMSession) -> None:
        await take(session, action)

    return taking


def outcome(vm: str, change: str) -> str:
    return f"{vm}: {change}"
