"""Every action on one VM, once: the table the keys, the footer, the help and the palette come from.

A :class:`VMAction` says what an action is called, its key, its words for
the footer, the help screen and the palette, which control check it needs
(:mod:`migtui.model.controls`: ``migrate``, ``cancel``, ``postcopy``,
``steer``) and which method of :class:`~migtui.screens.vm_controls.VMControls`
carries it out. The fleet and VM screens bind :func:`vm_bindings`; their
``check_action`` and ``action_vm`` pass the highlighted or shown VM to their
controls; the palette lists :data:`VM_ACTIONS` for every VM. A new action is
one entry here (and its method on the controls, if it does something new).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class VMAction:
    name: str
    """Its name in the palette ("migrate web-1") and in the binding (``vm('migrate')``)."""
    key: str
    label: str
    """The footer's word."""
    help: str
    """What it does, with ``{vm}``: the tooltip, the help screen and the palette."""
    run: str
    """The method of the controls (VMControls) that carries it out, called with the VM (and ``argument``)."""
    control: str | None = None
    """The control check it needs (a migration it can start, cancel, switch or steer); None: any VM."""
    argument: str | None = None
    show: bool = True
    """In the footer (else on the help screen and in the palette only)."""
    screens: tuple[str, ...] = ("fleet", "vm")
    """Where it is a key: on the VM's own screen, "open" is not."""

    @property
    def mutating(self) -> bool:
        """It changes a VM: not offered at all in read-only mode."""
        return self.control is not None


VM_ACTIONS: tuple[VMAction, ...] = (
    VMAction("open", "enter", "Open", "charts, latest sample, events and prediction of {vm}", "open_vm",
             show=False, screens=("fleet",)),
    VMAction("migrate", "m", "Migrate", "migrate {vm} to a waiting VM or a URI (pre-flight checks first)",
             "migrate", control="migrate"),
    VMAction("cancel", "c", "Cancel", "cancel the migration of {vm} (asks first)", "cancel", control="cancel"),
    VMAction("postcopy", "p", "Postcopy", "switch the migration of {vm} to postcopy (needs postcopy-ram on "
             "both sides; asks first)", "postcopy", control="postcopy"),
    VMAction("parameters", "e", "Params", "edit the migration parameters and capabilities of {vm} (also while "
             "it migrates)", "open_params"),
    VMAction("snapshots", "n", "Snapshots", "snapshots and snapshot jobs of {vm} (save, load, delete)",
             "open_snapshots"),
    VMAction("refresh", "r", "Refresh", "read the state, parameters and capabilities of {vm} again", "refresh",
             show=False),
    # The prediction's advice, one key per parameter it changes (p above is its postcopy): each
    # means the same on every screen, whatever else the advice lists. The controls ask first.
    VMAction("advised-downtime", "D", "Advised downtime", "raise downtime-limit of {vm} to what the prediction "
             "advises (asks first, showing old → new)", "take_advice", control="steer", argument="downtime-limit",
             show=False),
    VMAction("advised-bandwidth", "B", "Advised bandwidth", "raise max-bandwidth of {vm} to what the prediction "
             "advises (asks first)", "take_advice", control="steer", argument="max-bandwidth", show=False),
    VMAction("advised-switchover", "O", "Advised switchover bandwidth", "set avail-switchover-bandwidth of {vm} "
             "as the prediction advises (QEMU 8.2+, asks first)", "take_advice", control="steer",
             argument="avail-switchover-bandwidth", show=False),
)
BY_NAME = {action.name: action for action in VM_ACTIONS}
ADVICE_KEYS = {action.argument: action.key for action in VM_ACTIONS if action.run == "take_advice"} | {
    "migrate-start-postcopy": BY_NAME["postcopy"].key}
"""The key that takes each piece of advice, by what it changes (shown beside the advice)."""


def vm_bindings(screen: str) -> list[Binding]:
    """The bindings of ``screen`` ("fleet" or "vm") for its VM, from the table.

    After them, for each action with a control check, a hidden second binding of
    the same key: Textual skips a binding its ``check_action`` refuses and tries the
    next of the same key, so a greyed-out key says why instead of doing nothing."""
    actions = [action for action in VM_ACTIONS if screen in action.screens]
    bindings = [Binding(action.key, f"vm('{action.name}')", action.label, show=action.show,
                        id=f"{screen}.{action.name}", tooltip=_sentence(action.help.format(vm="the VM")))
                for action in actions]
    bindings += [Binding(action.key, f"explain('{action.name}')", f"Why no {action.name}", show=False, system=True)
                 for action in actions if action.control]
    return bindings


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def advice_mark(name: str, keys: bool = True) -> str:
    """What stands before a piece of advice that changes ``name``: the key that takes it ("[D]"),
    or an arrow where no key can (read-only: the advice is only told)."""
    return f"[{ADVICE_KEYS.get(name, '?')}]" if keys else "→"
