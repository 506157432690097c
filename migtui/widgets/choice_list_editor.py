"""A list of enum values as a multi-select (``devices`` of a snapshot job)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import SelectionList

from migtui.widgets.field_editors import FieldEditor
from migtui.widgets.ticks import TickList


class ChoiceListEditor(FieldEditor):
    """Any of the spec's values, each ticked or not; QEMU's order is kept."""

    DEFAULT_CSS = """
    ChoiceListEditor SelectionList {
        height: auto;
        max-height: 8;
        border: none;
        padding: 0;
    }
    """

    def compose(self) -> ComposeResult:
        chosen = set(self.initial or ())
        names = list(self.spec.value_names) + [v for v in (self.initial or ()) if v not in self.spec.value_names]
        yield TickList[str](*[(name, name, name in chosen) for name in names])

    def _read(self) -> list[str]:
        return list(self.query_one(SelectionList).selected)

    def set_value(self, value: Any) -> None:
        selection = self.query_one(SelectionList)
        selection.deselect_all()
        for name in value or ():
            selection.select(name)

    @on(SelectionList.SelectedChanged)
    def _ticked(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        self.announce()
