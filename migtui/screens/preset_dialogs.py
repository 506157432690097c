"""Choosing a preset to load, and naming one to save (``config_dir()/presets/NAME.toml``)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from migtui.errors import MigtuiError
from migtui.params.presets import list_presets, preset_path, presets_dir
from migtui.screens.dialog import Dialog
from migtui.widgets.ordered_input import OrderedInput

DIALOG_CSS = """
{name} .dialog-box {{
    width: 72;
}}
{name} .note {{
    margin-bottom: 1;
}}
{name} .error {{
    color: $text-error;
}}
{name} OptionList {{
    height: auto;
    max-height: 12;
    margin: 1 0;
}}
"""


class LoadPresetDialog(Dialog[str | None]):
    """Pick a saved preset; dismissed with its name (its values go into the form, nothing is sent)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="LoadPresetDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="load-preset.cancel", tooltip="Load nothing")]

    def compose(self) -> ComposeResult:
        names = list_presets()
        with Vertical(classes="dialog-box"):
            yield Label("Load a preset into the form", classes="title")
            yield Label(f"From {presets_dir()}. Its values become edits: review them, then Apply.", classes="note")
            if names:
                yield OptionList(*[Option(name, id=name) for name in names], id="preset-names")
            else:
                yield Label("No presets saved yet (Ctrl+G on the editor saves one).", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="preset-cancel")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SavePresetDialog(Dialog[str | None]):
    """Name a preset; dismissed with the name (the caller writes it)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SavePresetDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save-preset.cancel", tooltip="Save nothing")]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        """What will be saved, in words (the edits, or everything the VM holds)."""
        self._replacing: str | None = None
        """The existing preset the user was warned about: saving it again replaces it."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("Save a preset", classes="title")
            yield Label(self.what, classes="note")
            yield OrderedInput(placeholder="name: letters, digits, '.', '_', '-'", id="preset-name")
            yield Label("", id="preset-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="preset-cancel")
                yield Button("Save (Enter)", id="preset-save", variant="primary")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preset-save":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        name = self.query_one("#preset-name", Input).value.strip()
        try:
            path = preset_path(name)
        except MigtuiError as error:
            self.query_one("#preset-error", Label).update(str(error))
            return
        if path.exists() and self._replacing != name:
            self._replacing = name
            self.query_one("#preset-error", Label).update(f"{path} exists: Save again to replace it.")
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
