"""The change preview: what Apply will send to one VM, old → new, before it is sent."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from migtui.qapi.changes import ChangeSet
from migtui.screens.dialog import Dialog


def change_lines(changes: ChangeSet) -> Text:
    """One line per change: ``downtime-limit  300 ms → 500 ms``."""
    width = max((len(change.name) for change in changes.changes), default=0) + 2
    lines = []
    for change in changes.changes:
        line = Text(f"{change.name:<{width}}", style="bold")
        line.append(f"{change.old_text} → {change.new_text}")
        if change.capability:
            line.append("  (capability)", style="dim")
        lines.append(line)
    return Text("\n").join(lines)


class ApplyPreview(Dialog[bool]):
    """Confirm the changes; dismissed with True to send them."""

    DEFAULT_CSS = """
    ApplyPreview #preview-box {
        width: 90;
    }
    ApplyPreview #preview-changes {
        margin: 1 0;
        height: auto;
        max-height: 20;
        overflow-y: auto;
    }
    ApplyPreview .note {
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="preview.cancel", tooltip="Send nothing, back to the form"),
        Binding("ctrl+s", "confirm", "Apply", id="preview.apply", tooltip="Send these changes to QEMU"),
    ]

    def __init__(self, vm: str, changes: ChangeSet, migrating: bool = False, consequence: str | None = None) -> None:
        """``consequence``: what sending them does beyond QEMU (a libvirt domain's passthrough), said first."""
        super().__init__()
        self.vm = vm
        self.changes = changes
        self.migrating = migrating
        self.consequence = consequence

    def compose(self) -> ComposeResult:
        count = len(self.changes)
        with Vertical(id="preview-box", classes="dialog-box"):
            yield Label(f"Apply {count} change{'s' if count != 1 else ''} to {self.vm}", classes="title")
            yield Static(change_lines(self.changes), id="preview-changes")
            if self.consequence:
                yield Label(self.consequence, classes="note", id="preview-consequence")
            if self.migrating:
                yield Label("A migration is running: parameters apply to it at once; QEMU refuses "
                            "capability changes until it ends.", classes="note")
            yield Label("Only these members are sent. If QEMU refuses one, what was already "
                        "changed is put back.", classes="note")
            with Horizontal(id="preview-buttons", classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="preview-cancel")
                yield Button("Apply (Ctrl+S)", id="preview-apply", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#preview-apply", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "preview-apply")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
