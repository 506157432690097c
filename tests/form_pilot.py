"""Entering values into the generated forms the way a user does: keys, not assignments.

``await enter(pilot, editor, value)`` focuses the editor's widgets and types,
toggles or picks, so the form sees exactly the events a person causes.
``await edit_member(pilot, screen, name, value)`` does it on the parameters
screen: Ctrl+F, the member's name typed into the filter, Enter, the value.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Switch

from migtui.widgets.field_editors import (
    ChoiceEditor, FieldEditor, OptionalBoolEditor, StrListEditor, StrOrNullEditor, SwitchEditor, TextEditor,
)  # fmt: skip
from migtui.widgets.struct_editors import StructEditor, StructListEditor


async def focus(pilot: Pilot, widget: Widget) -> None:
    widget.focus()
    await pilot.pause()


async def type_into(pilot: Pilot, field: Input, text: str) -> None:
    """Replace what the input holds by ``text``, key by key."""
    await focus(pilot, field)
    await pilot.press("end", "ctrl+u")
    if text:
        await pilot.press(*["space" if char == " " else char for char in text])
    await pilot.pause()


async def choose(pilot: Pilot, select: Select, value: Any) -> None:
    """Open the menu and move to ``value`` with the arrow keys."""
    values = [option_value for _, option_value in select._options]
    if select.value == value:
        return
    await focus(pilot, select)
    await pilot.press("enter")
    await pilot.pause()
    steps = values.index(value) - values.index(select.value)
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await pilot.pause()
    assert select.value == value, (select.value, value)


async def toggle(pilot: Pilot, switch: Switch, on: bool) -> None:
    if switch.value != on:
        await focus(pilot, switch)
        await pilot.press("space")
        await pilot.pause()


async def press(pilot: Pilot, button: Button) -> None:
    await focus(pilot, button)
    await pilot.press("enter")
    await pilot.pause()


async def enter(pilot: Pilot, editor: FieldEditor, value: Any) -> None:
    """Enter ``value`` (as a user would type it: ``"64M"``, ``True``, a list of dicts) into ``editor``."""
    if isinstance(editor, SwitchEditor):
        await toggle(pilot, editor.query_one(Switch), bool(value))
    elif isinstance(editor, OptionalBoolEditor):
        await choose(pilot, editor.query_one(Select), editor.UNSET if value is None else ("on" if value else "off"))
    elif isinstance(editor, ChoiceEditor):
        await choose(pilot, editor.query_one(Select), editor.UNSET if value is None else value)
    elif isinstance(editor, StrOrNullEditor):
        await choose(pilot, editor.query_one(Select), "null" if value is None else "text")
        if value is not None:
            await type_into(pilot, editor.query_one(Input), str(value))
    elif isinstance(editor, TextEditor):
        await type_into(pilot, editor.query_one(Input), "" if value is None else str(value))
    elif isinstance(editor, StrListEditor):
        for _ in range(len(editor.value)):
            await press(pilot, editor.query(".-remove").results(Button).__next__())
        for item in value:
            await press(pilot, editor.query_one(".-add", Button))
            await type_into(pilot, list(editor.query(".-items Input").results(Input))[-1], item)
    elif isinstance(editor, StructListEditor):
        while editor._items():
            await press(pilot, editor.query_one(".-items > .-item > .-remove", Button))
        for item in value:
            await press(pilot, editor.query_children(".-add").results(Button).__next__())
            await enter(pilot, editor._items()[-1], item)
    elif isinstance(editor, StructEditor):
        if editor._switchable:
            await toggle(pilot, editor.query_one(".-given", Switch), value is not None)
        for member in editor.children_editors():
            if value is not None and member.spec.name in value:
                await enter(pilot, member, value[member.spec.name])
    else:
        raise AssertionError(f"no way to enter a value into {editor!r}")


async def find_member(pilot: Pilot, screen: Screen, name: str, *, capability: bool = False) -> FieldEditor:
    """Ctrl+F, then ``name`` typed into the filter until the member is highlighted (as a person stops
    typing once it is); returns its editor, shown (not focused)."""
    await pilot.press("ctrl+f")  # the last search is selected: typing replaces it
    for typed in range(1, len(name) + 1):
        await pilot.press(name[typed - 1])
        if _highlighted(screen, name, capability):
            break
    while not _highlighted(screen, name, capability):
        await pilot.press("down")  # a capability named like a parameter comes after it
    await pilot.pause()
    box = screen.pane.box
    assert box is not None and box.member.name == name and box.is_mounted, (name, box)
    return box.editor


def _highlighted(screen: Screen, name: str, capability: bool) -> bool:
    selected = screen.selected
    return selected is not None and (selected.name, selected.capability) == (name, capability)


async def edit_member(pilot: Pilot, screen: Screen, name: str, value: Any, *, capability: bool = False) -> None:
    """Find the member, Enter, and enter ``value`` into its editor."""
    editor = await find_member(pilot, screen, name, capability=capability)
    await pilot.press("enter")
    if type(editor) is TextEditor and screen.app.focused is editor.query_one(Input):
        # Focused with its text selected: what is typed replaces it.
        await pilot.press(*["space" if char == " " else char for char in str(value)])
        await pilot.pause()
        assert editor.value == str(value), (name, editor.value)
        return
    await pilot.pause()
    await enter(pilot, editor, value)
