"""Editors for structs and lists of structs (``block-bitmap-mapping``), and the editor for any spec.

A struct is a group of member editors, built recursively by
:func:`editor_for` from the members' specs, so whatever shape a newer QEMU
gives a struct it gets a form. A list of structs is a list of such groups
with add and remove. Values are plain dicts and lists, as QMP takes them;
optional members left empty are left out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup
from textual.widget import Widget
from textual.widgets import Button, Label, Switch

from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.widgets.choice_list_editor import ChoiceListEditor
from migtui.widgets.field_editors import (
    ChoiceEditor,
    FieldEditor,
    OptionalBoolEditor,
    StrListEditor,
    StrOrNullEditor,
    SwitchEditor,
    TextEditor,
)  # fmt: skip


def editor_for(spec: FieldSpec, value: Any, *, nested: bool = False, id: str | None = None,
               disabled: bool = False) -> FieldEditor:
    """The editor for ``spec``'s kind, showing ``value``."""
    kind = spec.kind
    editor: type[FieldEditor] = TextEditor
    if kind is FieldKind.BOOL:
        editor = OptionalBoolEditor if nested and spec.optional else SwitchEditor
    elif kind is FieldKind.ENUM:
        editor = ChoiceEditor
    elif kind is FieldKind.STR_OR_NULL:
        editor = StrOrNullEditor
    elif kind is FieldKind.LIST_STR:
        editor = StrListEditor
    elif kind is FieldKind.LIST_ENUM:
        editor = ChoiceListEditor
    elif kind is FieldKind.STRUCT:
        editor = StructEditor
    elif kind is FieldKind.LIST_STRUCT:
        editor = StructListEditor
    return editor(spec, value, nested=nested, id=id, disabled=disabled)


class CompositeEditor(FieldEditor):
    """An editor made of member editors: a member's change is this editor's change."""

    @on(FieldEditor.Changed)
    def _member_changed(self, event: FieldEditor.Changed) -> None:
        if event.editor is not self:
            event.stop()
            self.announce()


class StructEditor(CompositeEditor):
    """A struct's members, one editor each; an optional struct has a switch to give it or not."""

    DEFAULT_CSS = """
    StructEditor {
        border-left: outer $primary 50%;
        padding-left: 1;
    }
    StructEditor > .-member {
        height: auto;
    }
    StructEditor > .-member > Label {
        width: 12;
        color: $text-muted;
    }
    StructEditor > .-present {
        height: auto;
    }
    StructEditor > .-present Switch {
        border: none;
        height: 1;
        padding: 0;
    }
    """

    def compose(self) -> ComposeResult:
        values = self.initial if isinstance(self.initial, dict) else {}
        if self._switchable:
            with HorizontalGroup(classes="-present"):
                yield Switch(self.initial is not None, classes="-given")
                yield Label(" given")
        for member in self.spec.members:
            with HorizontalGroup(classes="-member"):
                label = Label(member.name + ("" if not member.optional else "?"))
                label.tooltip = member.doc
                yield label
                yield editor_for(member, values.get(member.name), nested=True,
                                 disabled=self._switchable and self.initial is None)

    @property
    def _switchable(self) -> bool:
        return self.nested and self.spec.optional

    def children_editors(self) -> list[FieldEditor]:
        return [child for group in self.query_children(".-member") for child in group.children
                if isinstance(child, FieldEditor)]

    def _read(self) -> dict[str, Any] | None:
        if self._switchable and not self.query_one(".-given", Switch).value:
            return None
        given = {editor.spec.name: editor.value for editor in self.children_editors()}
        return {name: value for name, value in given.items() if value is not None}

    def _unmounted_value(self) -> dict[str, Any] | None:
        if self._switchable and self.initial is None:
            return None
        return dict(self.initial) if isinstance(self.initial, dict) else {}

    def set_value(self, value: Any) -> None:
        values = value if isinstance(value, dict) else {}
        if self._switchable:
            self.query_one(".-given", Switch).value = value is not None
        for editor in self.children_editors():
            editor.set_value(values.get(editor.spec.name))

    @on(Switch.Changed, ".-given")
    def _given(self, event: Switch.Changed) -> None:
        event.stop()
        for editor in self.children_editors():
            editor.disabled = not event.value
        self.announce()


class StructListEditor(CompositeEditor):
    """A list of structs: one struct editor per item, add and remove."""

    DEFAULT_CSS = """
    StructListEditor .-item {
        height: auto;
        margin-bottom: 1;
    }
    StructListEditor .-item > Button {
        width: auto;
        min-width: 5;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="-items"):
            for item in self.initial or []:
                yield self._item(item)
        yield Button(f"+ {self._item_name()}", classes="-add", compact=True)

    def _item_name(self) -> str:
        element = self.spec.type[0] if isinstance(self.spec.type, list) else str(self.spec.type)
        return element if not element.isdigit() else "item"

    def _item(self, value: Any) -> HorizontalGroup:
        # An item of the list is always given: its struct editor has no "given" switch.
        item_spec = replace(self.spec, kind=FieldKind.STRUCT, optional=False)
        return HorizontalGroup(StructEditor(item_spec, value if isinstance(value, dict) else {}, nested=True),
                               Button("✕", classes="-remove", compact=True, tooltip="Remove this item"),
                               classes="-item")

    def _items(self) -> list[StructEditor]:
        return [child for item in self.query_one(".-items", VerticalGroup).children
                for child in item.children if isinstance(child, StructEditor)]

    def _read(self) -> list[dict[str, Any]]:
        return [editor.value or {} for editor in self._items()]

    def _unmounted_value(self) -> list[dict[str, Any]]:
        return list(self.initial or [])

    def set_value(self, value: Any) -> None:
        # Removing widgets completes later: replace the items once the old ones are gone.
        self.call_later(self._replace, list(value or []))

    async def _replace(self, value: list[Any]) -> None:
        items = self.query_one(".-items", VerticalGroup)
        await items.remove_children()
        await items.mount_all([self._item(item) for item in value])
        self.announce()

    @on(Button.Pressed, ".-add")
    async def _add(self, event: Button.Pressed) -> None:
        event.stop()
        await self.query_one(".-items", VerticalGroup).mount(self._item({}))
        self.announce()

    @on(Button.Pressed, ".-remove")
    async def _remove(self, event: Button.Pressed) -> None:
        if event.button.parent is None or event.button.parent.parent is not self.query_one(".-items"):
            return  # a remove button of a list nested deeper: its own editor handles it
        event.stop()
        if isinstance(item := event.button.parent, Widget):
            await item.remove()
        self.announce()
