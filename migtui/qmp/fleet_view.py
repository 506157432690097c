"""What the views of a fleet read of it: the dashboard, the recorder, the exporter.

A live :class:`~migtui.qmp.fleet.Fleet` and a recording played back
(:class:`~migtui.record.replay.ReplayFleet`) both are one: the same states,
the same stream of updates, a gate (a replay's refuses everything).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol, TypeVar

from migtui.model.policy import Policy
from migtui.model.vm_state import VMState
from migtui.qmp.gate import CommandGate
from migtui.qmp.hosts import HostPool
from migtui.qmp.policy import PolicyRunner
from migtui.qmp.session import VMSession
from migtui.qmp.updates import Update

Subscriber = Callable[[Update], None]
Result = TypeVar("Result")


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


class DashboardFleet(FleetView, Protocol):
    """What the dashboard holds: a fleet it starts and closes, whose VMs it can change.

    A live :class:`~migtui.qmp.fleet.Fleet`, or a replayed one, which answers
    every change with "a replay has no VM to talk to" (the dashboard on a
    recording is read-only by construction, not by hiding its keys only).
    """

    @property
    def hosts(self) -> HostPool:
        """The SSH hosts the VMs' sockets are on."""

    @property
    def sessions(self) -> Mapping[str, VMSession]: ...

    @property
    def policies(self) -> Mapping[str, PolicyRunner]:
        """The policy each VM's migrations follow, if any."""

    def start(self) -> None: ...

    async def close(self) -> None: ...

    def session(self, name: str) -> VMSession: ...

    async def change(self, vm: str, make: Callable[[VMSession], Awaitable[Result]], *,
                     also: Iterable[str] = ()) -> Result:
        """Make one change to ``vm`` through the gate, then read the VMs it touched again."""

    def watch_settings(self, vm: str) -> Callable[[], None]: ...

    def apply_policy(self, vm: str, policy: Policy) -> PolicyRunner: ...
