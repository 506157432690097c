"""What the parts of the parameters screen share.

The screen (:mod:`migtui.screens.params`) keeps its apply and preset
actions in files of their own (:mod:`~migtui.screens.params_apply`,
:mod:`~migtui.screens.params_presets`); each part is this class, so the
state and the steps they share are declared once, here, and typed.
"""

from __future__ import annotations

from textual.screen import Screen

from migtui.model.vm_state import VMState
from migtui.params.draft import Draft, Verdict
from migtui.screens.controls_api import Controls


class ParamsParts(Screen[None]):
    vm: str
    state: VMState
    controls: Controls
    draft: Draft | None
    """The edits and what QEMU holds (None while the schema is read)."""
    verdict: Verdict | None
    read_only: bool
    show_deprecated: bool

    def _take_values(self) -> None:
        """Show what the poller read last; the edits stay, judged against it."""
        raise NotImplementedError

    def _judge(self, *, select: bool = False) -> None:
        """Judge the edits and show the verdict everywhere."""
        raise NotImplementedError

    def _status(self, text: str, kind: str) -> None:
        """The status line under the form."""
        raise NotImplementedError

    def action_find(self) -> None:
        """Focus the find box, its text selected (what is typed next replaces the last search)."""
        raise NotImplementedError
