"""The form of a snapshot job (save, load, delete), generated from its command.

The rows come from the VM's own schema for ``snapshot-VERB`` (so a QEMU
that adds a member gets a row for it), with the node members narrowed to
the VM's writable nodes. Every edit is checked by the generated model; the
dialog returns the validated request, or None when the admin backs out.

The tag is what an admin comes to type: it is the first row and has the
focus, and an empty one is refused (QEMU would save a snapshot with an
empty name). The job id, filled in and following the tag, is the last row.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, Static

from migtui.qapi.errors import FieldErrors
from migtui.qapi.fields import FieldSpec
from migtui.qapi.models import build_model
from migtui.qmp.snapshots import SnapshotRequest, request_from, suggest_job_id
from migtui.screens.dialog import Dialog
from migtui.widgets.schema_form import SchemaForm

TITLES = {"save": "Save a snapshot of {vm}", "load": "Load a snapshot into {vm}", "delete": "Delete a snapshot of {vm}"}
EMPTY_TAG = "a snapshot needs a tag (QEMU would take an empty one as a name)"
GO = {"save": "Save", "load": "Load", "delete": "Delete"}


class SnapshotDialog(Dialog[SnapshotRequest | None]):
    """Ask for the members of one snapshot command; dismiss with the request."""

    DEFAULT_CSS = """
    SnapshotDialog .title {
        margin-bottom: 1;
    }
    SnapshotDialog #snapshot-status {
        color: $text-muted;
    }
    SnapshotDialog #snapshot-status.-invalid {
        color: $error;
    }
    """

    AUTO_FOCUS = "#row-tag Input, #row-tag Select"
    """The tag is what an admin comes to type (or, to load or delete, to pick among the VM's)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="snapshot-dialog.cancel", tooltip="Start no job"),
        Binding("ctrl+s", "submit", "Start", id="snapshot-dialog.submit", tooltip="Start the job"),
    ]

    def __init__(self, vm: str, verb: str, specs: tuple[FieldSpec, ...], values: dict[str, Any]) -> None:
        super().__init__()
        self.vm = vm
        self.verb = verb
        self.specs = tuple(sorted(specs, key=lambda spec: (spec.name != "tag", spec.name == "job-id")))
        self.values = values
        self.model = build_model(specs, f"snapshot-{verb}")

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box"):
            yield Label(TITLES[self.verb].format(vm=self.vm), classes="title")
            yield SchemaForm(self.specs, self.values, self._check)
            yield Static("Ctrl+S starts the job.", id="snapshot-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="cancel")
                yield Button(f"{GO[self.verb]} (Ctrl+S)", id="go", variant="primary")

    @property
    def form(self) -> SchemaForm:
        return self.query_one(SchemaForm)

    def _entered(self) -> dict[str, Any]:
        return {row.spec.name: row.editor.value for row in self.form.rows}

    def _check(self, name: str, value: Any) -> str | None:
        if name == "tag" and not str(value or "").strip():
            return EMPTY_TAG
        try:
            self.model.to_arguments({**self._entered(), name: value})
        except FieldErrors as invalid:
            return invalid.errors.get(name)
        return None

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#go")
    def action_submit(self) -> None:
        entered = self._entered()
        job_id = self.form.row("job-id")
        if job_id is not None and not job_id.changed and entered.get("tag"):
            entered["job-id"] = suggest_job_id(self.verb, entered["tag"])  # the suggestion follows the tag
        try:
            if not str(entered.get("tag") or "").strip():
                raise FieldErrors({"tag": EMPTY_TAG})
            arguments = self.model.to_arguments(entered)
        except FieldErrors as invalid:
            for name, message in invalid.errors.items():
                row = self.form.row(name)
                if row is not None:
                    row.show(message)
            status = self.query_one("#snapshot-status", Static)
            status.update(f"Fix {', '.join(invalid.errors)} first.")
            status.add_class("-invalid")
            return
        self.dismiss(request_from(self.verb, arguments))
