"""The parameters screen: one VM's migration parameters and capabilities, edited and applied.

The forms are generated from the schema of the QEMU the VM runs and filled
with what QEMU holds. Edits are checked as they are typed; Apply is refused
while a field is invalid, shows the changes (old → new) and sends only
those, then reads the VM again so the form shows what QEMU really holds.
QEMU's refusals are shown in its words at the field they name. Every apply
leaves a mark on the VM's charts. In read-only mode the values are shown
and there is no Apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from migtui.errors import MigtuiError
from migtui.params.apply import SettingsRefused, apply_changes
from migtui.params.bulk import BulkResult
from migtui.params.presets import Preset, load_preset, save_preset
from migtui.params.settings import VMSettings, read_settings
from migtui.qapi.changes import ChangeSet, SettingsRequest
from migtui.qapi.errors import FieldErrors
from migtui.screens.apply_preview import ApplyPreview
from migtui.screens.bulk_apply import BulkApplyDialog
from migtui.screens.preset_dialogs import LoadPresetDialog, SavePresetDialog
from migtui.screens.worker_errors import ShowsWorkerErrors
from migtui.widgets.schema_form import SchemaForm
from migtui.widgets.settings_editor import SettingsEditor

if TYPE_CHECKING:
    from migtui.app import MigtuiApp

MUTATING = ("apply", "bulk", "load_preset")


class ParamsScreen(ShowsWorkerErrors, Screen[None]):
    """Edit one VM's migration parameters and capabilities; Escape goes back."""

    DEFAULT_CSS = """
    ParamsScreen #params-title {
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    ParamsScreen #params-status {
        padding: 0 1;
        height: auto;
        max-height: 6;
        color: $text-muted;
    }
    ParamsScreen #params-status.-invalid, ParamsScreen #params-status.-refused {
        color: $text-error;
    }
    ParamsScreen #params-status.-pending {
        color: $text-accent;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="params.back", tooltip="Back (edits not applied are dropped)"),
        Binding("ctrl+s", "apply", "Apply", id="params.apply",
                tooltip="Preview the changes (old → new), then send only those to QEMU"),
        Binding("ctrl+b", "bulk", "Apply to VMs", id="params.bulk",
                tooltip="Apply the same changes to several VMs, a result for each"),
        Binding("ctrl+o", "load_preset", "Load preset", id="params.load-preset",
                tooltip="Fill the form from a saved preset (nothing is sent until Apply)"),
        Binding("ctrl+g", "save_preset", "Save preset", id="params.save-preset",
                tooltip="Save the edits (or, without edits, everything the VM holds) as a preset"),
        Binding("ctrl+t", "toggle_deprecated", "Deprecated", id="params.deprecated",
                tooltip="Show or hide deprecated parameters and capabilities"),
        Binding("ctrl+r", "reload", "Reload", id="params.reload", show=False,
                tooltip="Read the VM's values again (drops edits)"),
    ]

    settings: reactive[VMSettings | None] = reactive(None)
    """What the VM holds and the specs of its QEMU (None while reading)."""
    show_deprecated: reactive[bool] = reactive(False)
    read_only: reactive[bool] = reactive(False)

    app: MigtuiApp  # type: ignore[assignment]

    def __init__(self, vm: str) -> None:
        super().__init__()
        self.vm = vm
        self._pending: ChangeSet | None = None
        """The valid edits' change set (None: nothing valid to apply)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.vm, id="params-title")
        yield Static("", id="params-status")
        yield SettingsEditor(id="params-editor").data_bind(
            ParamsScreen.settings, ParamsScreen.show_deprecated, ParamsScreen.read_only)
        yield Footer()

    def on_mount(self) -> None:
        self.read_only = self.app.read_only
        self.sub_title = f"{self.vm} · parameters"
        self.load()

    # -- reading ------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="params-read", name="Reading the parameters")
    async def load(self) -> None:
        self.settings = None
        self._status("", "")
        try:
            settings = await read_settings(self.app.fleet.session(self.vm))
        except MigtuiError as error:
            self._status(f"Cannot read {self.vm}: {error}", "-refused")
            return
        self._show_settings(settings)

    def _show_settings(self, settings: VMSettings) -> None:
        self.settings = settings
        self._pending = None
        note = " · read-only: values are shown, nothing can be applied" if self.read_only else ""
        self.query_one("#params-title", Static).update(
            f"{self.vm} · QEMU {settings.qemu} · {settings.forms.schema.origin}{note}")
        self._status("No edits. Ctrl+S applies edits; Ctrl+T shows deprecated members.", "")
        self.refresh_bindings()

    # -- edits --------------------------------------------------------------

    @property
    def editor(self) -> SettingsEditor:
        return self.query_one(SettingsEditor)

    @on(SchemaForm.Edited)
    def _edited(self) -> None:
        self._pending = None
        if self.settings is None:
            return
        try:
            request = self.settings.request(*self.editor.edits())
        except FieldErrors as invalid:
            fields = ", ".join(invalid.errors)
            self._status(f"{len(invalid.errors)} invalid: {fields}. Apply is refused until they are fixed.",
                         "-invalid")
        else:
            changes = self.settings.changes(request)
            if changes:
                self._pending = changes
                names = ", ".join(change.name for change in changes.changes)
                self._status(f"{len(changes)} change{'s' if len(changes) != 1 else ''} ({names}): "
                             f"Ctrl+S shows old → new before anything is sent.", "-pending")
            else:
                self._status("No changes from what QEMU holds.", "")
        self.refresh_bindings()

    def _status(self, text: str, kind: str) -> None:
        status = self.query_one("#params-status", Static)
        status.update(Text(text))
        for name in ("-invalid", "-refused", "-pending"):
            status.set_class(name == kind, name)

    def _request(self) -> SettingsRequest | None:
        """The edits, validated; None (errors shown at the fields) if any is invalid."""
        try:
            return self.editor.request()
        except FieldErrors as invalid:
            self.notify(f"Fix the fields marked ✗ first ({', '.join(invalid.errors)}).", severity="error")
            return None

    # -- actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING and self.read_only:
            return False  # read-only: no apply control at all
        if action in ("apply", "bulk"):
            return self._pending is not None or None
        if action in ("load_preset", "save_preset", "toggle_deprecated"):
            return self.settings is not None or None
        return True

    def action_back(self) -> None:
        # Leaving would cancel the apply worker with commands already sent to QEMU.
        if any(worker.group == "params-apply" and worker.is_running for worker in self.workers):
            self.notify("Waiting for QEMU to answer the apply first.", severity="warning")
            return
        self.dismiss()

    def action_toggle_deprecated(self) -> None:
        self.show_deprecated = not self.show_deprecated

    def action_reload(self) -> None:
        self.load()

    def action_apply(self) -> None:
        if self.read_only or self.settings is None or self._request() is None or not self._pending:
            return
        sample = self.app.fleet.states[self.vm].latest
        changes = self._pending

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.apply(changes)

        self.app.push_screen(ApplyPreview(self.vm, changes, migrating=sample is not None and sample.active), answered)

    @work(exclusive=True, exit_on_error=False, group="params-apply", name="Applying the parameters")
    async def apply(self, changes: ChangeSet) -> None:
        assert self.settings is not None
        self._status(f"Applying {len(changes)} change(s) ...", "-pending")
        try:
            applied = await apply_changes(self.app.fleet.session(self.vm), self.settings, changes)
        except SettingsRefused as refused:
            capabilities = [change.name for change in changes.changes if change.capability]
            self.editor.show_refusal(refused.field, refused.desc,
                                     capabilities if refused.command == "migrate-set-capabilities" else [])
            self._status(f"QEMU refused ({refused.command}): {refused.desc}. Nothing was changed.", "-refused")
            return
        except MigtuiError as error:
            self._status(str(error), "-refused")
            return
        self.app.add_mark(self.vm, applied.text, applied.at)
        self.app.fleet.refresh(self.vm)
        self._show_settings(applied.settings)
        held = "; ".join(f"{name} stays {value!r}" for name, value in applied.not_held.items())
        self.notify(f"{self.vm}: {applied.text}" + (f" (QEMU accepted, but {held})" if held else ""),
                    title="Applied", severity="warning" if held else "information", markup=False)

    def action_bulk(self) -> None:
        if self.read_only or self.settings is None:
            return
        request = self._request()
        if request is None or not request:
            return
        self.app.push_screen(BulkApplyDialog(self.settings, request), self._bulk_done)

    def _bulk_done(self, results: dict[str, BulkResult] | None) -> None:
        mine = (results or {}).get(self.vm)
        if mine is not None and mine.applied is not None:
            self._show_settings(mine.applied.settings)

    def action_load_preset(self) -> None:
        if self.read_only:
            return

        def chosen(name: str | None) -> None:
            if not name:
                return
            try:
                preset = load_preset(name)
            except MigtuiError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            unknown = self.editor.fill(preset.parameters, preset.capabilities)
            if unknown:
                self.notify(f"Preset {name!r}: {self.vm}'s QEMU has no {', '.join(unknown)}: left out.",
                            severity="warning", markup=False)

        self.app.push_screen(LoadPresetDialog(), chosen)

    def action_save_preset(self) -> None:
        if self.settings is None:
            return
        settings = self.settings
        request = self._request()
        if request is None:
            return
        if request:
            values: tuple[dict[str, Any], dict[str, bool]] = (request.parameters, request.capabilities)
            what = f"Saves the {len(request.parameters) + len(request.capabilities)} edited values (not yet applied)."
        else:
            values = (settings.settable_parameters, dict(settings.capabilities))
            what = f"Saves every parameter and capability {self.vm} holds now."

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                path = save_preset(Preset(name, *values), comment=f"saved from {self.vm}, QEMU {settings.qemu}")
            except MigtuiError as error:
                self.app.show_error(error, "Saving the preset")
                return
            self.notify(f"Preset {name!r} saved to {path}.", markup=False)

        self.app.push_screen(SavePresetDialog(what), named)
