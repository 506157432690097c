"""Apply the editor's changes to several VMs at once: old → new for each, then a result for each.

Each chosen VM checks the values against its own QEMU's schema and compares
them with what its poller last read (see :mod:`migtui.params.bulk`): the
first Ctrl+S shows, per VM, what would change from what it holds now; the
second sends exactly that, through the fleet. One VM refusing never stops
the others. Every VM that changed gets a chart mark.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, SelectionList, Static

from migtui.model.link import LinkState
from migtui.params.bulk import BulkPlan, BulkResult, plan_many, send_many
from migtui.params.settings import VMSettings
from migtui.qapi.changes import SettingsRequest
from migtui.qapi.human_values import human_value
from migtui.screens.controls_api import Controls
from migtui.screens.dialog import Dialog
from migtui.widgets.ticks import TickList


class BulkApplyDialog(Dialog[dict[str, BulkResult] | None]):
    """Choose VMs, apply, read the results; dismissed with them (None if nothing was sent)."""

    DEFAULT_CSS = """
    BulkApplyDialog .dialog-box {
        width: 96;
    }
    BulkApplyDialog #bulk-values, BulkApplyDialog #bulk-preview, BulkApplyDialog #bulk-results {
        height: auto;
        margin: 1 0 0 0;
    }
    BulkApplyDialog SelectionList {
        height: auto;
        max-height: 12;
        margin: 1 0;
    }
    """

    AUTO_FOCUS = "#bulk-vms"
    """The VMs to choose: what the dialog asks first (Up, Down and Space work at once)."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="bulk.close", tooltip="Back to the editor"),
        Binding("ctrl+s", "apply", "Preview / Send", id="bulk.apply",
                tooltip="First old → new for every chosen VM, then send exactly that"),
    ]


    def __init__(self, settings: VMSettings, request: SettingsRequest, controls: Controls) -> None:
        super().__init__()
        self.settings = settings
        self.request = request
        self.controls = controls
        self.results: dict[str, BulkResult] | None = None
        self.plans: dict[str, BulkPlan] | None = None
        """The previewed changes per VM (None: not previewed for the VMs chosen now)."""

    def compose(self) -> ComposeResult:
        states = self.controls.states
        choices = [(f"{name}  QEMU {state.version or '?'}, {state.run_state or state.link}", name,
                    name == self.settings.vm)
                   for name, state in states.items() if state.link is LinkState.CONNECTED]
        with Vertical(classes="dialog-box"):
            yield Label("Apply to several VMs", classes="title")
            with VerticalScroll(classes="dialog-body"):  # the results of many VMs scroll; the buttons stay
                yield Static(self._values(), id="bulk-values")
                yield Label("Each VM checks these against its own QEMU and changes only what differs.",
                            classes="note")
                yield TickList[str](*choices, id="bulk-vms")
                yield Static("", id="bulk-preview")
                yield Static("", id="bulk-results")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (Esc)", id="bulk-close")
                yield Button("Preview chosen (Ctrl+S)", id="bulk-apply", variant="primary")

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
        # Closing would cancel the send worker with commands already sent to QEMU.
        if any(worker.group == "bulk-apply" and worker.is_running for worker in self.workers):
            self.notify("Waiting for every VM to answer first.", severity="warning")
            return
        self.dismiss(self.results)

    def on_selection_list_selected_changed(self) -> None:
        self._unplanned()

    def _unplanned(self) -> None:
        """Other VMs chosen: the preview no longer says what would be sent."""
        if self.plans is not None:
            self.plans = None
            self.query_one("#bulk-preview", Static).update("")
        self._preview_next()

    def _preview_next(self) -> None:
        button = self.query_one("#bulk-apply", Button)
        button.label, button.variant = "Preview chosen (Ctrl+S)", "primary"

    def action_apply(self) -> None:
        if any(worker.is_running for worker in self.workers):
            return
        if self.plans is not None:
            self.query_one("#bulk-apply", Button).disabled = True
            self.query_one("#bulk-results", Static).update(Text("sending ...", style="italic"))
            self.run_send(self.plans)
            return
        chosen = self.query_one(SelectionList).selected
        if not chosen:
            self.notify("Choose at least one VM.", severity="warning")
            return
        self.query_one("#bulk-preview", Static).update(Text(f"checking {', '.join(chosen)} ...", style="italic"))
        self.run_preview(list(chosen))

    @work(exclusive=True, exit_on_error=False, group="bulk-preview", name="Previewing for several VMs")
    async def run_preview(self, chosen: list[str]) -> None:
        plans = await plan_many(self.controls.fleet, chosen, self.request.parameters, self.request.capabilities)
        if list(self.query_one(SelectionList).selected) != chosen:
            return  # the choice changed while checking
        lines = [Text("Would change (from what each VM holds now):", style="bold")]
        lines += [Text(f"{'→' if plan.sendable else '·' if plan.changes is not None else '✗'} {vm}: {plan.summary}",
                       style="" if plan.changes is not None else "bold") for vm, plan in plans.items()]
        self.query_one("#bulk-preview", Static).update(Text("\n").join(lines))
        self.call_after_refresh(self.query_one(".dialog-body").scroll_end, animate=False)  # what was just said
        sendable = sum(plan.sendable for plan in plans.values())
        button = self.query_one("#bulk-apply", Button)
        if sendable:
            self.plans = plans
            button.label, button.variant = f"Send to {sendable} VM{'s' if sendable != 1 else ''} (Ctrl+S)", "warning"

    @work(exclusive=True, exit_on_error=False, group="bulk-apply", name="Applying to several VMs")
    async def run_send(self, plans: dict[str, BulkPlan]) -> None:
        results = await send_many(self.controls.fleet, plans)
        for name, result in results.items():
            if result.applied is not None and result.applied.changes:
                self.controls.mark(name, result.applied.text, result.applied.at)
        self.results = {**(self.results or {}), **results}
        lines = [Text(f"{'✓' if result.ok else '✗'} {name}: {result.summary}",
                      style="" if result.ok else "bold") for name, result in results.items()]
        self.query_one("#bulk-results", Static).update(Text("\n").join(lines))
        self.call_after_refresh(self.query_one(".dialog-body").scroll_end, animate=False)
        self.query_one("#bulk-apply", Button).disabled = False
        self.plans = None  # sent: the next Ctrl+S previews again, from the values read after this
        self._preview_next()
