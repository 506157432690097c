"""A header whose title changes without a layout of the screen.

Textual's header lays the whole screen out again whenever its title or
sub-title changes, although the title takes the header's width whatever it
says. The fleet screen's sub-title sums the fleet up and changes every few
seconds while migrations come and go: each layout cost several frames' worth
of CPU. Here a new title is only drawn.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.visual import VisualType
from textual.widgets import Header
from textual.widgets._header import HeaderTitle  # no public name (textual is pinned, see pyproject.toml)


class SteadyTitle(HeaderTitle):
    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        super().update(content, layout=False)  # its width is the header's, whatever it says


class SteadyHeader(Header):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield SteadyTitle() if type(widget) is HeaderTitle else widget
