"""Editors for one member of a generated form, one kind of value each.

Every editor is a :class:`FieldEditor`: it shows a value QEMU reported,
gives back what the user entered (:attr:`FieldEditor.value`, ready for the
VM's model: text for numbers and sizes, which the model parses and checks),
and posts :class:`FieldEditor.Changed` when that changes. Editors never
judge a value: the form asks the model and shows its verdict at the field.

Inside a struct (``nested``) an empty optional member means "not given"
and its value is ``None``.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static, Switch

from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.qapi.human_values import BYTES_PER_SECOND, MILLISECONDS, UNITS, human_value, value_hint
from migtui.qapi.text_values import text_from_value
from migtui.units import SIZE_HINT, parse_size
from migtui.widgets.ordered_input import OrderedInput

PLACEHOLDERS = {
    FieldKind.INT: "a whole number",
    FieldKind.SIZE: "bytes: 1048576, 512K, 64M, 1G",
    FieldKind.NUMBER: "a number",
    FieldKind.LIST_INT: "numbers, separated by commas",
    FieldKind.LIST_ENUM: "values, separated by commas",
    FieldKind.ANY: "JSON",
}


class FieldEditor(Widget):
    """Base of the editors: a spec, a value, a Changed message."""

    DEFAULT_CSS = """
    FieldEditor {
        height: auto;
        width: 1fr;
    }
    FieldEditor Input, FieldEditor Select {
        width: 1fr;
    }
    FieldEditor Switch {
        border: none;
        height: 1;
        padding: 0;
    }
    FieldEditor .-hint {
        width: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    class Changed(Message):
        """What the editor gives changed (typed, toggled, chosen)."""

        def __init__(self, editor: FieldEditor) -> None:
            super().__init__()
            self.editor = editor

        @property
        def control(self) -> FieldEditor:
            return self.editor

    def __init__(self, spec: FieldSpec, value: Any, *, nested: bool = False, id: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(id=id, disabled=disabled)
        self.spec = spec
        self.initial = value
        self.nested = nested

    @property
    def value(self) -> Any:
        """What the user entered, ready for the model."""
        if not self.children:  # mounted but not composed yet (an item just added): still its first value
            return self._unmounted_value()
        return self._read()

    def _read(self) -> Any:
        raise NotImplementedError

    def _unmounted_value(self) -> Any:
        return self.initial

    def set_value(self, value: Any) -> None:
        """Show ``value`` (as QEMU reports it); posts Changed like a user's edit."""
        raise NotImplementedError

    def announce(self) -> None:
        self.post_message(self.Changed(self))


class SwitchEditor(FieldEditor):
    """A bool: a switch."""

    def compose(self) -> ComposeResult:
        yield Switch(bool(self.initial))

    def _read(self) -> bool:
        return self.query_one(Switch).value

    def _unmounted_value(self) -> bool:
        return bool(self.initial)

    def set_value(self, value: Any) -> None:
        self.query_one(Switch).value = bool(value)

    @on(Switch.Changed)
    def _switched(self, event: Switch.Changed) -> None:
        event.stop()
        self.announce()


class TextEditor(FieldEditor):
    """Numbers, sizes, text, comma lists, JSON: one line the model reads. Sizes show their meaning."""

    def compose(self) -> ComposeResult:
        with HorizontalGroup():
            yield OrderedInput(text_from_value(self.spec, self.initial), placeholder=self._placeholder(), compact=True)
            if self._has_hint:
                yield Static(self._hint(text_from_value(self.spec, self.initial)), classes="-hint")

    def _placeholder(self) -> str:
        unit = UNITS.get(self.spec.name, BYTES_PER_SECOND)
        if unit != BYTES_PER_SECOND:  # a size in the schema that is no number of bytes (announce-*)
            return "milliseconds" if unit == MILLISECONDS else "a whole number"
        return PLACEHOLDERS.get(self.spec.kind, "")

    def _read(self) -> Any:
        return self._given(self.query_one(Input).value)

    def _unmounted_value(self) -> Any:
        return self._given(text_from_value(self.spec, self.initial))

    def _given(self, text: str) -> str | None:
        if self.nested and not text.strip() and self.spec.optional:
            return None
        return text

    def set_value(self, value: Any) -> None:
        self.query_one(Input).value = text_from_value(self.spec, value)

    @property
    def _has_hint(self) -> bool:
        return self.spec.kind is FieldKind.SIZE or (self.spec.kind is FieldKind.INT and self.spec.name in UNITS)

    def _hint(self, text: str) -> str:
        """What the typed number means, in human units: ``64M`` -> ``= 64 MiB/s``."""
        try:
            number = parse_size(text) if self.spec.kind is FieldKind.SIZE else int(text)
        except ValueError:
            if text.strip():
                return ""
            return value_hint(self.spec) or (SIZE_HINT if self.spec.kind is FieldKind.SIZE else "")
        return "= " + human_value(self.spec, number)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._has_hint:
            self.query_one(".-hint", Static).update(self._hint(event.value))
        self.announce()


class ChoiceEditor(FieldEditor):
    """An enum: one of its values (an optional member inside a struct may be left unset)."""

    UNSET = "-unset-"

    def compose(self) -> ComposeResult:
        names = list(self.spec.value_names)
        if isinstance(self.initial, str) and self.initial not in names:
            names.append(self.initial)  # what QEMU reports is always shown, even if the files lack it
        options: list[tuple[str, str]] = [(name, name) for name in names]
        if (self.nested and self.spec.optional) or not options:
            # Nothing to offer (a member narrowed to a VM's values when it has none): the model refuses it.
            options.insert(0, ("(not set)" if options else "(none available)", self.UNSET))
        start = self.initial if self.initial in names else options[0][1]
        yield Select(options, value=start, allow_blank=False, compact=True)

    def _read(self) -> str | None:
        chosen = self.query_one(Select).value
        return None if chosen == self.UNSET else str(chosen)

    def set_value(self, value: Any) -> None:
        self.query_one(Select).value = self.UNSET if value is None and self.nested else value

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        self.announce()


class OptionalBoolEditor(ChoiceEditor):
    """An optional bool inside a struct: not set, on or off."""

    def compose(self) -> ComposeResult:
        start = self.UNSET if self.initial is None else ("on" if self.initial else "off")
        yield Select([("(not set)", self.UNSET), ("on", "on"), ("off", "off")], value=start, allow_blank=False,
                     compact=True)

    def _read(self) -> bool | None:  # type: ignore[override]  # a choice read as the bool it stands for
        chosen = self.query_one(Select).value
        return None if chosen == self.UNSET else chosen == "on"

    def set_value(self, value: Any) -> None:
        self.query_one(Select).value = self.UNSET if value is None else ("on" if value else "off")


class StrOrNullEditor(FieldEditor):
    """A string-or-null (``StrOrNull``): text (empty is '') or null, three states in all."""

    DEFAULT_CSS = """
    StrOrNullEditor .-mode {
        width: 12;
    }
    """

    def compose(self) -> ComposeResult:
        with HorizontalGroup():
            yield Select([("text", "text"), ("null", "null")], value="null" if self.initial is None else "text",
                         allow_blank=False, classes="-mode", compact=True)
            yield OrderedInput("" if self.initial is None else str(self.initial), placeholder="'' (empty)",
                        disabled=self.initial is None, compact=True)

    def _read(self) -> str | None:
        if self.query_one(Select).value == "null":
            return None
        return self.query_one(Input).value

    def set_value(self, value: Any) -> None:
        self.query_one(Select).value = "null" if value is None else "text"
        self.query_one(Input).value = "" if value is None else str(value)

    @on(Select.Changed)
    def _mode(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one(Input).disabled = event.value == "null"
        self.announce()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.announce()


class StrListEditor(FieldEditor):
    """A list of strings (``['str']``): one input per item, add and remove."""

    DEFAULT_CSS = """
    StrListEditor .-item {
        height: auto;
    }
    StrListEditor Button {
        min-width: 5;
        width: auto;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="-items"):
            for item in self.initial or []:
                yield self._item(str(item))
        yield Button("+ item", classes="-add", compact=True)

    def _item(self, text: str) -> HorizontalGroup:
        remove = Button("✕", classes="-remove", compact=True, tooltip="Remove this item")
        return HorizontalGroup(OrderedInput(text, placeholder="text", compact=True), remove, classes="-item")

    def _read(self) -> list[str]:
        return [item.value for item in self.query(".-items Input").results(Input)]

    def _unmounted_value(self) -> list[str]:
        return [str(item) for item in self.initial or []]

    def set_value(self, value: Any) -> None:
        # Removing widgets completes later: replace the items once the old ones are gone.
        self.call_later(self._replace, list(value or []))

    async def _replace(self, value: list[Any]) -> None:
        items = self.query_one(".-items", VerticalGroup)
        await items.remove_children()
        await items.mount_all([self._item(str(item)) for item in value])
        self.announce()

    @on(Button.Pressed, ".-add")
    async def _add(self, event: Button.Pressed) -> None:
        event.stop()
        row = self._item("")
        await self.query_one(".-items", VerticalGroup).mount(row)
        row.query_one(Input).focus()
        self.announce()

    @on(Button.Pressed, ".-remove")
    async def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        if isinstance(item := event.button.parent, Widget):
            await item.remove()
        self.announce()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.announce()
