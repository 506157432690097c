"""Check boxes whose state is a character, not a colour: ``[x]`` on, ``[ ]`` off.

Textual draws ``▐X▌`` for both states and tells them apart by colour only
(grey 249 against 233 under NO_COLOR): unreadable on a monochrome terminal
and for many eyes. The state is in the text here, the colours stay as a
second cue.
"""

from __future__ import annotations

from typing import Generic

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import SelectionType

ON, OFF = "[x]", "[ ]"


class TickBox(Checkbox):
    """A Checkbox that shows ``[x]`` or ``[ ]``."""

    @property
    def _button(self) -> Content:
        return Content.styled(ON if self.value else OFF, self.get_visual_style("toggle--button"))


class TickList(Generic[SelectionType], SelectionList[SelectionType]):
    """A SelectionList whose rows start with ``[x]`` or ``[ ]``."""

    def _get_left_gutter_width(self) -> int:
        return len(ON) + 1

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt alone: the box is drawn here
        index = self.scroll_offset.y + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        component = "selection-list--button" + ("-selected" if selection.value in self._selected else "") + (
            "-highlighted" if self.highlighted == index else "")
        underlying = next(iter(line)).style or self.rich_style
        box = self.get_component_rich_style(component) + Style(meta={"option": index})  # a click toggles it
        tick = ON if selection.value in self._selected else OFF
        return Strip([Segment(tick, style=box), Segment(" ", style=underlying), *line])
