"""A DataTable that renders a cell again only when that cell changed.

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
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.widgets import DataTable

CELLS_KEPT = 4000
"""Renderings kept: a screenful of rows (cursor and hover states included) several times over."""


class CachedCellTable(DataTable[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before DataTable's own set-up, which may already clear caches.
        self._cell_lines: LRUCache[tuple[Any, ...], tuple[object, list[list[Segment]]]] = LRUCache(CELLS_KEPT)
        super().__init__(*args, **kwargs)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        if row_index < 0 or column_index < 0:  # the header and row labels: few, and Textual caches them
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        value = self._data[row_key][column_key]
        # The row and column index are in the key because the rendering carries them
        # (as the meta a mouse click is resolved by).
        key = (row_key, column_key, row_index, column_index, base_style, width, cursor, hover,
               self._show_hover_cursor, self.show_cursor, self._pseudo_class_state)
        kept = self._cell_lines.get(key)
        if kept is not None and kept[0] is value:
            return kept[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_lines.discard(key)  # LRUCache.set keeps a value already there
        self._cell_lines.set(key, (value, lines))
        return lines

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_lines.clear()

    def notify_style_update(self) -> None:
        self._cell_lines.clear()
        super().notify_style_update()
