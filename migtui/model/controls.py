"""Why a control (migrate, cancel, postcopy, steer) cannot act on a VM now, in words.

The same reasons QEMU would give, before anything is sent, decided by one
pure function from :class:`MigrationFacts`: the dashboard builds them from
the fleet's cached state (a key greys out as the VM changes, and says why
when pressed), the command line and the pre-flight check read them live from
QEMU just before acting (:func:`migtui.qmp.migration.read_facts`). ``None``
means the control can act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from migtui.model.link import LinkState
from migtui.model.status import ACTIVE_STATES, MIGRATABLE, MigrationStatus, RunState
from migtui.model.vm_state import VMState


class Control(StrEnum):
    """The verbs that steer a VM's migration, by the name the keys, the palette and the help use."""

    MIGRATE = "migrate"
    CANCEL = "cancel"
    POSTCOPY = "postcopy"
    STEER = "steer"
    """Change a parameter of a running migration (the prediction's advice, a policy's step)."""
    RECOVER = "recover"
    """Resume a postcopy whose stream broke (both sides postcopy-paused)."""
    PAUSE = "pause"
    """Break a running postcopy's stream on purpose (to recover it later)."""


def read_only_refusal(control: Control) -> str:
    """What a read-only migtui says of a control (the engine's gate refuses it anyway)."""
    words = "change of parameters" if control is Control.STEER else control.value
    return f"migtui runs read-only: no {words}."


@dataclass(frozen=True)
class MigrationFacts:
    """What decides whether a control can act on a VM."""

    vm: str
    link: LinkState
    status: str
    """The migration's status as QEMU spells it (``none`` before any)."""
    run_state: str | None
    incoming: bool
    """The VM is the destination of that migration."""
    postcopy_ram: bool

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATES

    @property
    def migrating_out(self) -> bool:
        """A migration runs and this VM is its source (the side that can cancel or switch it)."""
        return self.link is LinkState.CONNECTED and self.active and not self.incoming

    @classmethod
    def of(cls, state: VMState) -> MigrationFacts:
        """From the fleet's state of the VM (a snapshot job's figures are no migration)."""
        sample = state.latest
        status = sample.status if sample is not None and not sample.snapshot else MigrationStatus.NONE
        return cls(state.name, state.link, status, state.run_state,
                   state.incoming or state.run_state == RunState.INMIGRATE,
                   bool(state.capabilities.get("postcopy-ram")))


def refusal(control: Control, vm: MigrationFacts, destination: MigrationFacts | None = None) -> str | None:
    """Why ``control`` cannot act on ``vm`` now (None: it can).

    ``destination`` is the VM the migration goes to, when migtui knows it: postcopy
    needs postcopy-ram there too."""
    name = vm.vm
    if vm.link is not LinkState.CONNECTED:
        return f"{name}: not connected (link {vm.link}); migtui reconnects on its own."
    if control is Control.MIGRATE:
        return _cannot_start(vm)
    if control in (Control.RECOVER, Control.PAUSE):
        return _cannot_recover_or_pause(control, vm)
    if not vm.migrating_out:
        if vm.active:
            return f"{name} is the destination of its migration: {control} it on the source."
        last = f" (the last one {vm.status})" if vm.status != MigrationStatus.NONE else ""
        verb = {Control.POSTCOPY: "switch to postcopy", Control.STEER: "change"}.get(control, str(control))
        return f"{name}: no migration runs from {name}{last}, nothing to {verb}."
    if control is Control.POSTCOPY:
        for end in (vm, destination):
            if end is not None and not end.postcopy_ram:
                return f"{name}: postcopy needs postcopy-ram on both sides; it is off on {end.vm}."
        if vm.status != MigrationStatus.ACTIVE:
            return f"{name}: the migration is {vm.status}; postcopy starts from an active one."
    return None


def _cannot_recover_or_pause(control: Control, vm: MigrationFacts) -> str | None:
    name = vm.vm
    wanted = MigrationStatus.POSTCOPY_PAUSED if control is Control.RECOVER else MigrationStatus.POSTCOPY_ACTIVE
    if vm.status != wanted:
        if control is Control.RECOVER and vm.status in (MigrationStatus.POSTCOPY_RECOVER,
                                                       MigrationStatus.POSTCOPY_RECOVER_SETUP):
            return f"{name}: its postcopy is being recovered already ({vm.status})."
        return f"{name}: the migration is {vm.status}; {control} acts on a {wanted} one."
    if vm.incoming:
        return f"{name} is the destination of its migration: {control} it on the source."
    return None


def _cannot_start(vm: MigrationFacts) -> str | None:
    name = vm.vm
    if vm.active:
        side = "the destination of" if vm.incoming else "the source of"
        return f"{name} is already {side} a migration ({vm.status})."
    if vm.run_state == RunState.INMIGRATE:
        return f"{name} waits for an incoming migration: it can be migrated to, not from."
    if vm.run_state not in MIGRATABLE:
        done = f" (its migration {vm.status})" if vm.status != MigrationStatus.NONE else ""
        return f"{name} is {vm.run_state or 'in an unknown state'}{done}: only a running or paused VM migrates."
    return None
