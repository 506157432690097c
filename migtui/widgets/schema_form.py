"""A form generated from field specs: one row per member, checked as it is typed.

Each :class:`FieldRow` shows the member's name, its badges (unstable,
deprecated, since), the editor for its kind, its doc as help, and an error
line: the model's verdict as the user types, or QEMU's own words when QEMU
refused it. Deprecated members are hidden until :attr:`SchemaForm.show_deprecated`.

The form knows nothing of VMs: it is given specs, the values QEMU holds,
and a ``check(name, value)`` that returns an error message or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, Static

from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.widgets.field_editors import FieldEditor
from migtui.widgets.struct_editors import editor_for

Check = Callable[[str, Any], str | None]
WIDE_KINDS = frozenset({FieldKind.LIST_STR, FieldKind.STRUCT, FieldKind.LIST_STRUCT})
_NOT_YET = object()


def unstable(spec: FieldSpec) -> bool:
    """Marked unstable in the schema (6.2 and later), or named so by QEMU's older convention (``x-``)."""
    return spec.unstable or spec.name.startswith("x-")


def badges(spec: FieldSpec) -> str:
    marks = []
    if unstable(spec):
        marks.append("unstable")
    if spec.deprecated:
        marks.append("deprecated")
    if spec.since:
        marks.append(f"since {spec.since}")
    if spec.source == "live":
        marks.append("not in the bundled docs")
    return " · ".join(marks)


class FieldRow(VerticalGroup):
    """One member: name and badges, editor, help, error."""

    DEFAULT_CSS = """
    FieldRow {
        padding: 0 1;
        margin-bottom: 1;
    }
    FieldRow > .-head {
        height: auto;
    }
    FieldRow .-name {
        width: 30;
        text-style: bold;
    }
    FieldRow.-unstable .-name {
        color: $text-warning;
    }
    FieldRow .-head > FieldEditor {
        width: 1fr;
        max-width: 64;
    }
    FieldRow > FieldEditor {
        margin-left: 2;
    }
    FieldRow .-badges {
        width: auto;
        padding-left: 2;
        color: $text-muted;
    }
    FieldRow .-help {
        color: $text-muted;
    }
    FieldRow .-error {
        display: none;
        color: $text-error;
    }
    FieldRow.-invalid .-error, FieldRow.-refused .-error {
        display: block;
    }
    FieldRow.-invalid .-name, FieldRow.-refused .-name {
        color: $text-error;
    }
    FieldRow.-changed .-name {
        color: $text-accent;
    }
    """

    def __init__(self, spec: FieldSpec, value: Any, *, disabled: bool = False) -> None:
        super().__init__(id=f"row-{spec.name}", classes=" ".join(
            name for name, on_ in (("-unstable", unstable(spec)), ("-deprecated", spec.deprecated)) if on_))
        self.spec = spec
        self.editor = editor_for(spec, value, id=f"field-{spec.name}", disabled=disabled)
        self.baseline: Any = _NOT_YET
        """What the editor gave for QEMU's value: anything else is an edit."""
        self.error: str | None = None
        """The model's objection to what is typed, if any."""

    def compose(self) -> ComposeResult:
        # Lists and structs get the whole width under the name; one-line editors sit beside it.
        wide = self.spec.kind in WIDE_KINDS
        with HorizontalGroup(classes="-head"):
            yield Label(self.spec.name, classes="-name")
            if not wide:
                yield self.editor
            yield Label(badges(self.spec), classes="-badges")
        if wide:
            yield self.editor
        if self.spec.doc:
            yield Static(self.spec.doc, classes="-help", markup=False)
        yield Static("", classes="-error", markup=False)

    def on_mount(self) -> None:
        self.baseline = self.editor.value

    @property
    def ready(self) -> bool:
        """Mounted, with QEMU's value noted (edits count from here)."""
        return self.baseline is not _NOT_YET

    @property
    def changed(self) -> bool:
        # Editors announce their first value while mounting: that is no edit.
        return self.baseline is not _NOT_YET and self.editor.value != self.baseline

    def show(self, error: str | None, *, refused: bool = False) -> None:
        """An error at the field: the model's (as typed) or QEMU's (``refused``, shown verbatim)."""
        if not refused:
            self.error = error
        self.set_class(bool(error) and not refused, "-invalid")
        self.set_class(bool(error) and refused, "-refused")
        self.query_one(".-error", Static).update(("QEMU refused: " if refused else "✗ ") + error if error else "")


class SchemaForm(VerticalGroup):
    """Rows for ``specs``; tells its parent when an edit changed what the form asks for."""

    DEFAULT_CSS = """
    SchemaForm {
        height: auto;
    }
    SchemaForm.-hide-deprecated FieldRow.-deprecated {
        display: none;
    }
    """

    show_deprecated: reactive[bool] = reactive(False)
    """Whether deprecated members are shown (hidden by default: new setups should not use them)."""

    class Edited(Message):
        """A field of the form was edited (and checked)."""

        def __init__(self, form: SchemaForm, name: str) -> None:
            super().__init__()
            self.form = form
            self.name = name

        @property
        def control(self) -> SchemaForm:
            return self.form

    def __init__(self, specs: Iterable[FieldSpec], values: dict[str, Any], check: Check, *,
                 read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="-hide-deprecated")
        self.specs = tuple(specs)
        self.values = values
        self.check = check
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield FieldRow(spec, self.values.get(spec.name), disabled=self.read_only)
        if not self.specs:
            yield Label("(none)")

    def watch_show_deprecated(self, show: bool) -> None:
        self.set_class(not show, "-hide-deprecated")

    @property
    def rows(self) -> list[FieldRow]:
        return list(self.query_children(FieldRow).results(FieldRow))

    def row(self, name: str) -> FieldRow | None:
        return next((row for row in self.rows if row.spec.name == name), None)

    def edited(self) -> dict[str, Any]:
        """What the user changed from what QEMU holds, by member name."""
        return {row.spec.name: row.editor.value for row in self.rows if row.changed}

    def errors(self) -> dict[str, str]:
        return {row.spec.name: row.error for row in self.rows if row.error}

    def fill(self, values: dict[str, Any]) -> None:
        """Put ``values`` into their editors (a preset): they become edits, checked as if typed."""
        for name, value in values.items():
            row = self.row(name)
            if row is not None:
                row.editor.set_value(value)

    def show_refusal(self, name: str, message: str) -> bool:
        """QEMU's words at the field they name; False if no field of this form has that name."""
        row = self.row(name)
        if row is None:
            return False
        row.show(message, refused=True)
        return True

    @on(FieldEditor.Changed)
    def _edited(self, event: FieldEditor.Changed) -> None:
        event.stop()
        row = next((r for r in self.rows if r.editor is event.editor), None)
        if row is None:
            return
        value = row.editor.value
        row.show(self.check(row.spec.name, value) if row.changed else None)
        row.set_class(row.changed, "-changed")
        self.post_message(self.Edited(self, row.spec.name))
