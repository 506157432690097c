"""The fleet table's own cell rendering draws what DataTable draws through Rich.

CachedCellTable makes the segments of a plain one-line cell itself (the
dashboard's CPU); every character must come out with the style Rich gives
it, for each way of justifying, with and without the cursor and the mouse
over it, focused or not. Anything it does not take on (spans, a text too
wide, two lines) must be left to Rich.
"""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from migtui.widgets.cached_table import CachedCellTable

CELLS = [
    Text("up", style=Style(color="green")),
    Text("12%", justify="right"),
    Text("54.4M", justify="right", style=Style(dim=True)),
    Text("left", justify="left", style=Style(italic=True)),
    Text("ab", justify="center", style=Style(color="red", bold=True)),
    Text("abc", justify="center"),
    Text("-", justify="right", style="bold magenta"),
    Text("x  ", justify="right"),
    Text(""),
    Text("▁▂▄█", style=Style(color="#88aaff")),
    Text("…", style=Style(dim=True)),
]
NOT_PLAIN = [
    Text.assemble(("two", "bold"), " styles"),
    Text("far too wide for it", justify="right"),
    Text("full", justify="full"),
]
WIDTH = 9


def characters(lines: list[list]) -> list[tuple[str, Style | None]]:
    """Each character of the first line with its style: what reaches the terminal."""
    return [(char, segment.style) for segment in lines[0] for char in segment.text]


class Table(App[None]):
    def compose(self) -> ComposeResult:
        table = CachedCellTable(cursor_type="row", cell_padding=1)
        table.add_column("a", key="a", width=WIDTH - 2)
        table.add_column("b", key="b", width=WIDTH - 2)
        for n, cell in enumerate(CELLS + NOT_PLAIN):
            table.add_row(cell, Text("x"), key=str(n))
        yield table


@pytest.mark.parametrize("focused", [True, False])
async def test_plain_cells_come_out_as_rich_draws_them(focused: bool) -> None:
    app = Table()
    async with app.run_test() as pilot:
        table = app.query_one(CachedCellTable)
        if not focused:
            table.blur()
        await pilot.pause()
        table._pseudo_class_state = table.get_pseudo_class_state()
        for base in (table.rich_style, Style(bgcolor="#202020") + table.rich_style):
            for row, cell in enumerate(CELLS):
                for cursor in (False, True):
                    for hover in (False, True):
                        own = table._render_plain_cell(row, 0, cell, base, WIDTH, cursor, hover)
                        rich = DataTable._render_cell(table, row, 0, base, WIDTH, cursor, hover)
                        assert own is not None, cell
                        assert characters(own) == characters(rich), (cell, cursor, hover)


async def test_other_cells_are_left_to_rich() -> None:
    app = Table()
    async with app.run_test():
        table = app.query_one(CachedCellTable)
        for n, cell in enumerate(NOT_PLAIN, start=len(CELLS)):
            assert table._render_plain_cell(n, 0, cell, table.rich_style, WIDTH, False, False) is None, cell
