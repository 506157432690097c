"""The one editor of the parameters screen: the selected member, with what it is.

A :class:`MemberBox` shows a member's name and badges, its type, unit and
range, what QEMU holds, the editor for its kind (value shown: the user's
edit, else QEMU's), the model's or QEMU's objection, and its doc. Only one
box is mounted at a time (:class:`MemberPane` swaps it as the selection
moves), so the screen stays a few dozen widgets whatever the QEMU.

Whether a value is an edit is decided against what the editor gave for
QEMU's value when it was shown (editors announce their first value while
mounting, and may spell it their own way): the pane remembers that per
member, since a box for an edited member starts from the edit.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup, VerticalScroll
from textual.message import Message
from textual.widget import AwaitMount
from textual.widgets import Label, Static

from migtui.params.draft import Draft, Member
from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.qapi.human_values import BYTES_PER_SECOND, MILLISECONDS, PERCENT, UNITS
from migtui.widgets.field_editors import FieldEditor
from migtui.widgets.member_list import held_text
from migtui.widgets.schema_form import badges, unstable
from migtui.widgets.struct_editors import editor_for

UNIT_WORDS = {MILLISECONDS: "milliseconds", PERCENT: "percent", BYTES_PER_SECOND: "bytes per second"}
_UNKNOWN = object()


def facts(member: Member, held: str) -> str:
    """``uint64 · milliseconds · 0 to 2000000 · QEMU holds 300 ms``."""
    spec = member.spec
    parts = ["capability (on/off)" if member.capability else _type_name(spec)]
    unit = UNITS.get(spec.name)
    if unit is not None:
        parts.append(UNIT_WORDS.get(unit, unit.strip()))
    elif spec.kind is FieldKind.SIZE:
        parts.append("bytes")
    if spec.minimum is not None and spec.maximum is not None and spec.range_evidence:
        parts.append(f"{spec.minimum} to {spec.maximum}")
    parts.append(f"QEMU holds {held}")
    return " · ".join(parts)


def _type_name(spec: FieldSpec) -> str:
    return f"[{spec.type[0]}]" if isinstance(spec.type, list) else str(spec.type)


class MemberBox(VerticalGroup):
    """One member: head, facts, editor, error, doc."""

    DEFAULT_CSS = """
    MemberBox {
        padding: 0 1;
    }
    MemberBox > .-head {
        height: auto;
    }
    MemberBox .-name {
        text-style: bold;
        color: $text-accent;
    }
    MemberBox.-unstable .-name {
        color: $text-warning;
    }
    MemberBox .-badges {
        padding-left: 2;
        color: $text-muted;
    }
    MemberBox .-facts {
        color: $text-muted;
        margin-bottom: 1;
    }
    MemberBox > FieldEditor {
        margin-bottom: 1;
        max-width: 64;
    }
    MemberBox Switch, MemberBox Switch:focus {
        border: none;
        height: 1;
        padding: 0;
    }
    MemberBox Switch:focus {
        background: $boost;
    }
    MemberBox .-error {
        color: $text-error;
        margin-bottom: 1;
    }
    MemberBox .-help {
        color: $text-muted;
    }
    """

    def __init__(self, member: Member, value: Any, held: str, *, baseline: Any, from_held: bool,
                 error: str, disabled: bool) -> None:
        super().__init__(classes="-unstable" if unstable(member.spec) else "")
        self.member = member
        self.held = held
        self.editor = editor_for(member.spec, value, id="member-editor", disabled=disabled)
        self.baseline = baseline
        """What the editor gives for QEMU's value (``_UNKNOWN`` until a box showed it)."""
        self.from_held = from_held
        """The editor started from QEMU's value (not from an edit)."""
        self.error = error

    def compose(self) -> ComposeResult:
        with HorizontalGroup(classes="-head"):
            yield Label(self.member.name, classes="-name")
            yield Label(badges(self.member.spec), classes="-badges")
        yield Static(facts(self.member, self.held), classes="-facts", markup=False)
        yield self.editor
        yield Static("", classes="-error", markup=False)
        if self.member.spec.doc:
            yield Static(self.member.spec.doc, classes="-help", markup=False)

    def show_error(self, text: str) -> None:
        self.error = text
        for error in self.query_children(".-error").results(Static):
            error.update(Text(text))
            error.display = bool(text)

    def on_mount(self) -> None:
        # The editor is mounted by now: what it gives is how it spells QEMU's value.
        if not self.is_attached:
            return  # swapped out already (the selection moved on while it mounted)
        if self.from_held:
            self.baseline = self.editor.value
        self.show_error(self.error)


class MemberPane(VerticalScroll):
    """Shows one :class:`MemberBox` at a time; tells the screen of edits."""

    DEFAULT_CSS = """
    MemberPane {
        height: 1fr;
    }
    MemberPane > .-empty {
        padding: 1 2;
        color: $text-muted;
    }
    """

    class Edited(Message):
        """The user entered ``value`` for ``member``; ``edit`` is False when it is QEMU's value again."""

        def __init__(self, member: Member, value: Any, edit: bool) -> None:
            super().__init__()
            self.member = member
            self.value = value
            self.edit = edit

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.baselines: dict[str, Any] = {}
        """Member key -> what its editor gave for QEMU's value."""
        self.mounting: AwaitMount | None = None
        """The last box being mounted (to wait for)."""

    def compose(self) -> ComposeResult:
        yield Static("Reading the VM's parameters and schema ...", classes="-empty")

    @property
    def box(self) -> MemberBox | None:
        # The newest: the one before it may still be on its way out.
        boxes = [child for child in self.children if isinstance(child, MemberBox)]
        return boxes[-1] if boxes else None

    def show(self, draft: Draft, member: Member | None, error: str, *, read_only: bool) -> None:
        """Swap in the box of ``member`` (its edit or QEMU's value), with ``error`` under the editor."""
        self._keep_baseline()
        self.remove_children()
        if member is None:
            self.mount(Static("No member matches the filter.", classes="-empty"))
            return
        self.mounting = self.mount(MemberBox(member, draft.value(member), held_text(draft, member),
                                             baseline=self.baselines.get(member.key, _UNKNOWN),
                                             from_held=member.key not in draft.edits, error=error,
                                             disabled=read_only))

    def show_error(self, error: str) -> None:
        if (box := self.box) is not None:
            box.show_error(error)

    def forget(self, keys: set[str]) -> None:
        """QEMU holds other values for these members now: their editors' baselines are stale."""
        for key in keys:
            self.baselines.pop(key, None)
        if (box := self.box) is not None and box.member.key in keys:
            box.baseline = _UNKNOWN  # every value is an edit now, judged against QEMU's new one

    def _keep_baseline(self) -> None:
        box = self.box
        if box is not None and box.baseline is not _UNKNOWN:
            self.baselines.setdefault(box.member.key, box.baseline)

    @on(FieldEditor.Changed)
    def _changed(self, event: FieldEditor.Changed) -> None:
        event.stop()
        box = self.box
        if box is None or event.editor is not box.editor:
            return
        if not box.is_mounted:
            return  # the editor's first value while mounting
        self._keep_baseline()
        value = box.editor.value
        self.post_message(self.Edited(box.member, value, box.baseline is _UNKNOWN or value != box.baseline))
