"""Apply the editor's changes to several VMs at once, and see a result per VM.

Each chosen VM checks the values against its own QEMU's schema and applies
only what differs from what it holds (see :mod:`migtui.params.bulk`); one
VM refusing never stops the others. Every VM that changed gets a chart mark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, SelectionList, Static

from migtui.model.link import LinkState
from migtui.params.bulk import BulkResult, apply_to_many
from migtui.params.settings import VMSettings
from migtui.qapi.changes import SettingsRequest
from migtui.qapi.human_values import human_value
from migtui.screens.dialog import Dialog

if TYPE_CHECKING:
    from migtui.app import MigtuiApp


class BulkApplyDialog(Dialog[dict[str, BulkResult] | None]):
    """Choose VMs, apply, read the results; dismissed with them (None if nothing was sent)."""

    DEFAULT_CSS = """
    BulkApplyDialog .dialog-box {
        width: 96;
    }
    BulkApplyDialog #bulk-values, BulkApplyDialog #bulk-results {
        height: auto;
        margin: 1 0 0 0;
    }
    BulkApplyDialog SelectionList {
        height: auto;
        max-height: 12;
        margin: 1 0;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="bulk.close", tooltip="Back to the editor"),
        Binding("ctrl+s", "apply", "Apply", id="bulk.apply", tooltip="Apply to every chosen VM"),
    ]

    app: MigtuiApp  # type: ignore[assignment]

    def __init__(self, settings: VMSettings, request: SettingsRequest) -> None:
        super().__init__()
        self.settings = settings
        self.request = request
        self.results: dict[str, BulkResult] | None = None

    def compose(self) -> ComposeResult:
        states = self.app.fleet.states
        choices = [(f"{name}  QEMU {state.version or '?'}, {state.run_state or state.link}", name,
                    name == self.settings.vm)
                   for name, state in states.items() if state.link is LinkState.CONNECTED]
        with Vertical(classes="dialog-box"):
            yield Label("Apply to several VMs", classes="title")
            yield Static(self._values(), id="bulk-values")
            yield Label("Each VM checks these against its own QEMU and changes only what differs.", classes="note")
            yield SelectionList[str](*choices, id="bulk-vms")
            yield Static("", id="bulk-results")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (Esc)", id="bulk-close")
                yield Button("Apply to chosen (Ctrl+S)", id="bulk-apply", variant="warning")

    def _values(self) -> Text:
        lines = [Text(f"{name} = {human_value(self.settings.forms.parameter(name), value)}")
                 for name, value in self.request.parameters.items()]
        lines += [Text(f"{name} = {'on' if state else 'off'}  (capability)")
                  for name, state in self.request.capabilities.items()]
        return Text("\n").join(lines)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "bulk-apply":
            self.action_apply()
        else:
            self.action_close()

    def action_close(self) -> None:
        # Closing would cancel the apply worker with commands already sent to QEMU.
        if any(worker.group == "bulk-apply" and worker.is_running for worker in self.workers):
            self.notify("Waiting for every VM to answer first.", severity="warning")
            return
        self.dismiss(self.results)

    def action_apply(self) -> None:
        chosen = self.query_one(SelectionList).selected
        if not chosen:
            self.notify("Choose at least one VM.", severity="warning")
            return
        self.query_one("#bulk-apply", Button).disabled = True
        self.query_one("#bulk-results", Static).update(Text(f"applying to {', '.join(chosen)} ...", style="italic"))
        self.run_apply(list(chosen))

    @work(exclusive=True, exit_on_error=False, group="bulk-apply", name="Applying to several VMs")
    async def run_apply(self, chosen: list[str]) -> None:
        fleet = self.app.fleet
        results = await apply_to_many({name: fleet.session(name) for name in chosen},
                                      self.request.parameters, self.request.capabilities)
        for name, result in results.items():
            if result.applied is not None and result.applied.changes:
                self.app.add_mark(name, result.applied.text, result.applied.at)
                fleet.refresh(name)
        self.results = {**(self.results or {}), **results}
        lines = [Text(f"{'✓' if result.ok else '✗'} {name}: {result.summary}",
                      style="" if result.ok else "bold") for name, result in results.items()]
        self.query_one("#bulk-results", Static).update(Text("\n").join(lines))
        self.query_one("#bulk-apply", Button).disabled = False
