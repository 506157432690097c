"""Why a control (migrate, cancel, postcopy) cannot act on a VM now, in words.

The dashboard greys out a key that cannot act and, when it is pressed
anyway (or picked in the palette), says why: the same reasons QEMU would
give, before anything is sent. ``None`` means the control can act.
"""

from __future__ import annotations

from migtui.model.link import LinkState
from migtui.model.vm_state import VMState

CONTROLS = ("migrate", "cancel", "postcopy")
MIGRATABLE = ("running", "paused")
"""Run states a migration can start from."""


def refusal(action: str, state: VMState, destination: VMState | None = None) -> str | None:
    """Why ``action`` cannot act on ``state``'s VM now (None: it can).

    ``destination`` is the VM the migration goes to, when migtui knows it
    (it was started from the dashboard): postcopy needs postcopy-ram there too."""
    vm = state.name
    if state.link is not LinkState.CONNECTED:
        return f"{vm}: not connected (link {state.link}); migtui reconnects on its own."
    sample = state.latest
    if action == "migrate":
        if sample is not None and sample.active:
            side = "the destination of" if state.incoming or state.run_state == "inmigrate" else "the source of"
            return f"{vm} is already {side} a migration ({sample.status})."
        if state.run_state == "inmigrate":
            return f"{vm} waits for an incoming migration: it can be migrated to, not from."
        if state.run_state not in MIGRATABLE:
            done = f" (its migration {sample.status})" if sample is not None and sample.status != "none" else ""
            return f"{vm} is {state.run_state or 'in an unknown state'}{done}: only a running or paused VM migrates."
        return None
    if not state.migrating_out:
        if sample is not None and sample.active:
            return f"{vm} is the destination of its migration: {action} it on the source."
        last = f" (the last one {sample.status})" if sample is not None and sample.status != "none" else ""
        return f"{vm}: no migration runs from {vm}{last}, nothing to {action}."
    if action == "postcopy":
        for end in (state, destination):
            if end is not None and not end.capabilities.get("postcopy-ram"):
                return f"{vm}: postcopy needs postcopy-ram on both sides; it is off on {end.name}."
        if sample is not None and sample.status != "active":
            return f"{vm}: the migration is {sample.status}; postcopy starts from an active one."
    return None
