"""What the views of a fleet read of it: the dashboard, the recorder, the exporter.

A live :class:`~migtui.qmp.fleet.Fleet` and a recording played back
(:class:`~migtui.record.replay.ReplayFleet`) both are one: the same states,
the same stream of updates, a gate (a replay's refuses everything).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from migtui.model.vm_state import VMState
from migtui.qmp.gate import CommandGate
from migtui.qmp.updates import Update

Subscriber = Callable[[Update], None]


class FleetView(Protocol):
    @property
    def states(self) -> dict[str, VMState]:
        """Everything known of each VM, by name."""

    @property
    def gate(self) -> CommandGate: ...

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Hear every update from now on (call the result to stop)."""

    def where(self, vm: str) -> str:
        """The VM's inventory host when it has one, else where its QMP address points."""
