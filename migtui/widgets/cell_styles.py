"""Rich styles for text inside table cells, taken from the current theme.

A DataTable cell is a Rich ``Text``; CSS cannot reach inside it. So cells
are styled with this small palette built from the theme's own variables
(``$error``, ``$warning``...) and rebuilt when the theme changes: cells
follow the theme like everything else, and under NO_COLOR Textual's filter
strips them while the words ("down", "busy") still say it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.style import Style
from textual.color import Color


@dataclass(frozen=True)
class CellPalette:
    plain: Style
    muted: Style
    good: Style
    warn: Style
    bad: Style
    accent: Style

    @classmethod
    def from_theme(cls, variables: Mapping[str, str]) -> CellPalette:
        def colour(name: str, bold: bool | None = None) -> Style:
            try:
                return Style(color=Color.parse(variables[name]).rich_color, bold=bold)
            except Exception:  # a missing or unparsable variable: no colour, not a crash
                return Style(bold=bold)

        return cls(
            plain=Style(),
            muted=Style(dim=True),
            good=colour("success"),
            warn=colour("warning"),
            bad=colour("error", bold=True),
            accent=colour("accent"),
        )


DEFAULT_PALETTE = CellPalette(Style(), Style(dim=True), Style(), Style(), Style(bold=True), Style())
