"""Every action on one VM, once: the table the keys, the footer, the help and the palette come from.

A :class:`VMAction` says what an action is called, its key, its words for
the footer, the help screen and the palette, and which control check it
needs (:class:`~migtui.model.controls.Control`). The dashboard's controls
carry each :class:`VMVerb` out; a new action is one entry here, its verb,
and what carries it out there (a test checks that every verb is carried out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from migtui.model.advice import Action
from migtui.model.controls import Control


class VMVerb(StrEnum):
    """The actions of the table, by their name in the palette ("migrate web-1") and in the bindings."""

    OPEN = "open"
    MIGRATE = "migrate"
    CANCEL = "cancel"
    POSTCOPY = "postcopy"
    PARAMETERS = "parameters"
    SNAPSHOTS = "snapshots"
    REFRESH = "refresh"
    ADVISED_DOWNTIME = "advised-downtime"
    ADVISED_BANDWIDTH = "advised-bandwidth"
    ADVISED_SWITCHOVER = "advised-switchover"
    RECOVER = "recover"
    PAUSE = "pause-postcopy"


@dataclass(frozen=True)
class VMAction:
    verb: VMVerb
    key: str
    label: str
    """The footer's word."""
    help: str
    """What it does, with ``{vm}``: the tooltip, the help screen and the palette."""
    control: Control | None = None
    """The control check it needs (a migration it can start, cancel, switch or steer); None: any VM."""
    advises: str | None = None
    """For an advice key: the parameter whose advised value it takes."""
    show: bool = True
    """In the footer (else on the help screen and in the palette only)."""
    screens: tuple[str, ...] = ("fleet", "vm")
    """Where it is a key: on the VM's own screen, "open" is not."""

    @property
    def name(self) -> str:
        return self.verb.value

    @property
    def mutating(self) -> bool:
        """It changes a VM: not offered at all in read-only mode."""
        return self.control is not None


VM_ACTIONS: tuple[VMAction, ...] = (
    VMAction(VMVerb.OPEN, "enter", "Open", "charts, latest sample, events and prediction of {vm}",
             show=False, screens=("fleet",)),
    VMAction(VMVerb.MIGRATE, "m", "Migrate", "migrate {vm} to a waiting VM or a URI (pre-flight checks first)",
             control=Control.MIGRATE),
    VMAction(VMVerb.CANCEL, "c", "Cancel", "cancel the migration of {vm} (asks first)", control=Control.CANCEL),
    VMAction(VMVerb.POSTCOPY, "p", "Postcopy", "switch the migration of {vm} to postcopy (needs postcopy-ram on "
             "both sides; asks first)", control=Control.POSTCOPY),
    VMAction(VMVerb.PARAMETERS, "e", "Params", "edit the migration parameters and capabilities of {vm} (also while "
             "it migrates)"),
    VMAction(VMVerb.SNAPSHOTS, "n", "Snapshots", "snapshots and snapshot jobs of {vm} (save, load, delete)"),
    VMAction(VMVerb.REFRESH, "r", "Refresh", "read the state, parameters and capabilities of {vm} again",
             show=False),
    # The prediction's advice, one key per parameter it changes (p above is its postcopy): each
    # means the same on every screen, whatever else the advice lists. The controls ask first.
    VMAction(VMVerb.ADVISED_DOWNTIME, "D", "Advised downtime", "raise downtime-limit of {vm} to what the prediction "
             "advises (asks first, showing old → new)", control=Control.STEER, advises="downtime-limit", show=False),
    VMAction(VMVerb.ADVISED_BANDWIDTH, "B", "Advised bandwidth", "raise max-bandwidth of {vm} to what the prediction "
             "advises (asks first)", control=Control.STEER, advises="max-bandwidth", show=False),
    VMAction(VMVerb.ADVISED_SWITCHOVER, "O", "Advised switchover bandwidth", "set avail-switchover-bandwidth of {vm} "
             "as the prediction advises (QEMU 8.2+, asks first)", control=Control.STEER,
             advises="avail-switchover-bandwidth", show=False),
    # A postcopy whose stream broke leaves the guest split between two hosts: its way back. Not in the
    # footer (full at 80 columns): the emergency's own words name the key.
    VMAction(VMVerb.RECOVER, "R", "Recover", "recover the paused postcopy of {vm}: the destination listens again, "
             "{vm} resumes (asks first)", control=Control.RECOVER, show=False),
    VMAction(VMVerb.PAUSE, "P", "Pause postcopy", "pause the postcopy of {vm} on purpose, to recover it later "
             "(asks first)", control=Control.PAUSE, show=False),
)
BY_NAME = {action.name: action for action in VM_ACTIONS}
ADVICE_KEYS = {action.advises: action.key for action in VM_ACTIONS if action.advises} | {
    "migrate-start-postcopy": BY_NAME[VMVerb.POSTCOPY].key}
"""The key that takes each piece of advice, by what it changes (shown beside the advice)."""


def advice_mark(name: str, keys: bool = True) -> str:
    """What stands before a piece of advice that changes ``name``: the key that takes it ("[D]"),
    or an arrow where no key can (read-only: the advice is only told). A combined action
    ('max-bandwidth+downtime-limit') is taken by its first parameter's key."""
    return f"[{ADVICE_KEYS.get(name.split('+')[0], '?')}]" if keys else "→"


def advised(actions: Sequence[Action], name: str) -> Action | None:
    """The cheapest advised action the key for ``name`` takes: one that changes ``name`` alone,
    else a combined one led by it (bandwidth with a shorter limit: B)."""
    alone = next((a for a in actions if a.name == name), None)
    return alone or next((a for a in actions if a.name.split("+")[0] == name), None)
