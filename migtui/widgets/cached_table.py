"""A DataTable that renders a cell again only when that cell changed, and cheaply.

Textual's DataTable keys its cell render cache on a counter that every
``update_cell`` bumps: one changed figure anywhere throws away every cell's
rendering, and the next paint of a row renders all its cells through Rich
again (with 50 VMs that was most of the dashboard's CPU). Here a cell's
rendering is kept with the value it was made from and reused while the
table still holds that same value object: an updated cell gets a new
object, so it alone is rendered again.

Everything else a rendering depends on is in the key (position, width,
cursor, hover, focus, styles); a change of styles or columns empties the
cache, as it empties Textual's own.

A changed cell that is one line of plain styled text that fits (every cell
of the fleet table) is made into segments here, as Rich would make them
through Padding, Styled and Text, without Rich's general layout machinery
(a few µs instead of a few hundred); anything else goes to Rich.
tests/test_ui_table_cells.py holds the two to the same characters and styles.

DataTable also asks, for every line it draws, for the widget's style and the
header's component style, each a walk up the DOM that blends the ancestors'
colours (a third of a line's cost). Neither can change while one pass draws
the lines of a frame, so a pass asks once.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable

CELLS_KEPT = 4000
"""Renderings kept: a screenful of rows (cursor and hover states included) several times over."""


class CachedCellTable(DataTable[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before DataTable's own set-up, which may already clear caches.
        self._cell_lines: LRUCache[tuple[Any, ...], tuple[object, list[list[Segment]]]] = LRUCache(CELLS_KEPT)
        self._pass: dict[object, Any] | None = None
        """What one pass of render_lines asked for once (None outside a pass)."""
        super().__init__(*args, **kwargs)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass = {}
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    @property
    def rich_style(self) -> Style:
        if self._pass is None:
            return super().rich_style
        if (style := self._pass.get("rich_style")) is None:
            style = self._pass["rich_style"] = super().rich_style
        return style

    def get_component_styles(self, *names: str) -> RenderStyles:
        if self._pass is None:
            return super().get_component_styles(*names)
        if (styles := self._pass.get(names)) is None:
            styles = self._pass[names] = super().get_component_styles(*names)
        return styles

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        if row_index < 0 or column_index < 0:  # the header and row labels: few, and Textual caches them
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # not a cell of the table's data
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key][column_key]
        # The row and column index are in the key because the rendering carries them
        # (as the meta a mouse click is resolved by).
        key = (row_key, column_key, row_index, column_index, base_style, width, cursor, hover,
               self._show_hover_cursor, self.show_cursor, self._pseudo_class_state)
        kept = self._cell_lines.get(key)
        if kept is not None and kept[0] is value:
            return kept[1]
        lines = self._render_plain_cell(row_index, column_index, value, base_style, width, cursor, hover)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_lines.discard(key)  # LRUCache.set keeps a value already there
        self._cell_lines.set(key, (value, lines))
        return lines

    def _render_plain_cell(self, row_index: int, column_index: int, value: object, base_style: Style,
                           width: int, cursor: bool, hover: bool) -> list[list[Segment]] | None:
        """The cell's one line as DataTable renders it (Styled(Padding(text))), or None if it is
        not a one-line Text without spans that fits its width."""
        row_key = self._row_locations.get_key(row_index)
        if not isinstance(value, Text) or value.spans or row_key is None or self.rows[row_key].height != 1:
            return None
        justify = value.justify or "default"
        if justify not in ("default", "left", "right", "center"):
            return None
        # Rich strips the right end of a line it justifies to the right or the centre.
        plain = value.plain if justify in ("default", "left") else value.plain.rstrip()
        if "\n" in plain or "\t" in plain:
            return None
        space = width - 2 * self.cell_padding - cell_len(plain)
        if space < 0:
            return None  # Rich crops it (an ellipsis)
        component, post = self._get_styles_to_render_cell(
            False, False, row_index < self.fixed_rows or column_index < self.fixed_columns, hover, cursor,
            self.show_cursor, self._show_hover_cursor, self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        own = value.style if isinstance(value.style, Style) else self.app.console.get_style(value.style)
        blank, styled = _styled(pre, Style.null(), post), _styled(pre, own, post)
        pad = Segment(" " * self.cell_padding, blank)
        if justify == "default":  # the text, then the cell's blank (not the text's style)
            middle = [Segment(plain, styled)] + ([Segment(" " * space, blank)] if space else [])
        elif justify == "left":
            middle = [Segment(plain + " " * space, styled)]
        elif justify == "right":
            middle = [Segment(" " * space + plain, styled)]
        else:
            middle = [Segment(" " * (space // 2) + plain + " " * (space - space // 2), styled)]
        return [[pad, *middle, pad]]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_lines.clear()

    def notify_style_update(self) -> None:
        self._cell_lines.clear()
        super().notify_style_update()


def _styled(pre: Style, style: Style, post: Style) -> Style:
    """A segment's style after Styled (the order of Segment.apply_style)."""
    combined = pre + style
    return combined + post if combined else post
