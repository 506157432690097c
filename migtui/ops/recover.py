"""Recover a postcopy whose stream broke: the guest, split between two hosts, made whole again.

Both QEMUs say ``postcopy-paused``: the guest runs on the destination and
waits for pages still on the source. Recovery is one step for the admin:
the destination listens again on a fresh address (``migrate-recover``), the
source resumes the postcopy to it (``migrate`` with ``resume``); the rest of
the memory then flows and the migration completes
(:mod:`migtui.qmp.postcopy_recovery`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from migtui.model.controls import Control
from migtui.model.status import MigrationStatus
from migtui.model.vm_state import VMState
from migtui.ops.question import Question
from migtui.qmp.postcopy_recovery import recover
from migtui.qmp.session import VMSession

CONTROL = Control.RECOVER


def question(vm: str, destination: str) -> Question:
    return Question(f"Recover the postcopy of {vm}",
                    f"The postcopy from {vm} to {destination} is paused: its stream broke, and the guest waits "
                    f"on {destination} for memory still on {vm}. Recover it? {destination} listens again on a "
                    f"fresh address and {vm} resumes sending; if the network is still down, both stay paused "
                    "and this can be tried again.", yes="Recover")


def step(destination: VMSession) -> Callable[[VMSession], Awaitable[str]]:
    """The change that recovers the source's postcopy to ``destination``, for the fleet to make."""
    async def recovering(source: VMSession) -> str:
        uri = await recover(source, destination)
        return outcome(source.name, destination.name, uri)

    return recovering


def outcome(vm: str, destination: str, uri: str) -> str:
    return f"{vm}: postcopy resumed to {destination} ({uri})"


def destination_among(states: Mapping[str, VMState], vm: str, known: str | None = None) -> str | None:
    """The destination of ``vm``'s paused postcopy: the one migtui started it to, else the only
    other VM whose postcopy is paused too (None: none, or more than one to choose from)."""
    if known is not None:
        return known
    paused = [name for name, state in states.items() if name != vm and state.latest is not None
              and state.latest.status == MigrationStatus.POSTCOPY_PAUSED]
    return paused[0] if len(paused) == 1 else None
