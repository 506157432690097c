"""The bindings of the fleet and VM screens, from the action table (:mod:`migtui.ops.actions`).

The fleet and VM screens bind :func:`vm_bindings`; their ``check_action`` and
``action_vm`` pass the highlighted or shown VM to their controls.
"""

from __future__ import annotations

from textual.binding import Binding

from migtui.ops.actions import VM_ACTIONS


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
