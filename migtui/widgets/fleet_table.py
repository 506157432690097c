"""The fleet table: every VM a row, cells updated in place by row key.

Samples of 50 VMs at 2 Hz would repaint the table a hundred times a second
if every one touched it at once, and every frame Textual draws costs a
compositor pass whatever it holds. So samples only mark their row dirty, and
rows are applied on one clock: each frame takes the dirty rows not applied
for ROW_INTERVAL - TICK, and the clock comes TICK after the last frame. A
row thus changes at most once in ROW_INTERVAL - TICK and shows a sample at
most ROW_INTERVAL late. What an admin must see at once (a MIGRATION event, a link
going down) is applied to its row immediately, and that frame carries the
rows that are due as well, so the clock's next frame is put off (with a
MIGRATION event every few hundred milliseconds across the fleet, most rows
ride on those). The highlighted VM's row is applied on every frame it is
dirty in, with no interval; the screen is told of every frame's rows
(``on_applied``) and draws the brief below the table in that same frame,
from the same sample.

Rows below (or above) the view wait, urgent or not: while the table is
ordered by name and not filtered, where a row stands does not depend on its
figures, so a row out of view is brought up to date only when it comes into
view (scrolling, a taller terminal). With 200 VMs that is most rows.

Rows are never rebuilt: a row is added when its VM starts matching the
filter and removed when it stops matching, otherwise only the cells whose
text changed are updated. Only a change of width rebuilds the table: it
shows the whole columns that fit, in the order of importance, and never
scrolls sideways (a cut cell, or a column half in view, reads as a figure).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable

from migtui.fleet_columns import CELL_PADDING, COLUMNS, SORTABLE
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.qmp.updates import Aspect
from migtui.widgets.cached_table import CachedCellTable
from migtui.widgets.cell_styles import DEFAULT_PALETTE, CellPalette
from migtui.widgets.feed import EventArrived, FleetFeed, MembershipChanged, StateUpdated
from migtui.widgets.fleet_row import FleetRow, column_widths, columns_that_fit

ROW_INTERVAL = 1.0
"""The longest a row's figures lag its VM's latest sample, in seconds. Once a second is what
admins expect of an overview (top's default is slower); each row repainted
costs a dozen Rich renders, and rows repainted per second is what the
table's CPU is made of. The VM screen draws every sample."""
TICK = 0.25
"""Seconds from a frame of the table to the clock's next one."""
URGENT_ASPECTS = frozenset({Aspect.LINK, Aspect.RUN_STATE, Aspect.BUSY, Aspect.POLL_ERROR})


class FleetTable(CachedCellTable):
    """Every VM of the fleet with its migration figures.

    Sort by a column with :attr:`sort_column` (also by clicking its header),
    filter with :attr:`filter_text` (words that must all appear in the VM's
    name, group, link, run state, migration status or outlook).
    """

    BINDINGS = [
        # The table never scrolls sideways: Home and End go to the first and the last VM, as in a list.
        Binding("home", "scroll_top", "First VM", show=False),
        Binding("end", "scroll_bottom", "Last VM", show=False),
    ]

    DEFAULT_CSS = """
    FleetTable {
        height: 1fr;
        background: $surface;
        overflow-x: hidden;
    }
    """

    filter_text: reactive[str] = reactive("")
    """Words every listed VM matches (case-insensitive); empty lists them all."""
    sort_column: reactive[str] = reactive("name")
    """Column key the rows are ordered by (one of SORTABLE)."""
    sort_reverse: reactive[bool] = reactive(False)
    """Largest first (or Z to A) when True."""

    _rows_only = False
    """True while a flush updates cells (see :meth:`refresh`)."""

    def __init__(self, states: Mapping[str, VMState], feed: FleetFeed, *,
                 on_applied: Callable[[set[str]], None] | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        """``on_applied``: called with the VMs whose rows were just brought up to date (the
        highlighted one's whenever it had news), to draw what else shows them in the same frame."""
        super().__init__(cursor_type="row", cell_padding=CELL_PADDING, id=id, classes=classes)
        self.states = states
        self.feed = feed
        self.on_applied = on_applied
        self._clock: Timer | None = None
        self._rows = {name: FleetRow(name) for name in states}
        self._visible: set[str] = set()
        self._dirty: set[str] = set()
        self._flushed_at: dict[str, float] = {}
        self._palette: CellPalette = DEFAULT_PALETTE
        self._name_width, self._host_width = self._measure()
        """The name column's width, and the host column's (0: no VM is on an inventory host, no host column)."""
        self.shown_columns: tuple[str, ...] = ()
        """The keys of the columns in view, in order (as many as the width holds)."""

    # -- life cycle ---------------------------------------------------------

    def on_mount(self) -> None:
        self._name_width, self._host_width = self._measure()  # VMs found since __init__ count too
        self._add_columns(tuple(column_widths(self._name_width, self._host_width)))
        self._palette = CellPalette.from_theme(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        # The fleet's VMs of now: a pattern may have found or lost some since __init__.
        self._rows = {name: self._rows.get(name) or FleetRow(name) for name in self.states}
        for name in self.states:
            state = self.states[name]
            if state.latest is not None:
                self._rows[name].add_sample(state.latest)
            self._rows[name].refresh(state, self._palette)
        self._apply_filter()
        self.feed.add(self, on_sample=self._take_sample, events=frozenset({"MIGRATION"}))
        self._wind_clock()

    def on_unmount(self) -> None:
        self.feed.remove(self)

    def on_resize(self) -> None:
        self._catch_up()  # a taller table shows rows that waited
        # One column stays free for the vertical scrollbar a long fleet brings.
        wanted = columns_that_fit(self.size.width - 1, self._name_width, self._host_width)
        if wanted == self.shown_columns:
            return
        keep = self.highlighted_vm
        self.clear(columns=True)
        self._visible.clear()
        self._add_columns(wanted)
        self._apply_filter()
        if keep is not None:
            self.select_vm(keep)

    def _add_columns(self, keys: tuple[str, ...]) -> None:
        self.shown_columns = keys
        widths = column_widths(self._name_width, self._host_width)
        for key, header, _ in COLUMNS:
            if key in keys:
                self.add_column(header, key=key, width=widths[key])

    def _on_theme_changed(self, _theme: object) -> None:
        self._palette = CellPalette.from_theme(self.app.theme_variables)
        self._dirty.update(self._rows)
        self.flush()

    # -- what is highlighted ------------------------------------------------

    @property
    def highlighted_vm(self) -> str | None:
        if not self.row_count:
            return None
        key = self._row_locations.get_key(self.cursor_row)  # asked for every sample: kept cheap
        return key.value if key is not None else None

    def select_vm(self, vm: str) -> None:
        if vm in self._visible:
            self.move_cursor(row=self.get_row_index(vm))

    # -- updates from the fleet ---------------------------------------------

    def _take_sample(self, vm: str, sample: Sample) -> None:
        """A sample as the fleet takes it (the feed calls this, no message): noted in its row."""
        row = self._rows.get(vm)
        if row is not None:
            row.add_sample(sample)
            self._dirty.add(vm)

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.vm in self._rows:
            self._mark(message.vm, urgent=message.aspect in URGENT_ASPECTS)

    def on_event_arrived(self, message: EventArrived) -> None:
        event = message.event
        if event.name == "MIGRATION" and message.vm in self._rows:
            self._rows[message.vm].add_status_event(event.at, str(event.data.get("status")))
            self._mark(message.vm, urgent=True)

    def on_membership_changed(self, message: MembershipChanged) -> None:
        """A VM found by a pattern gets its row; one whose socket went loses it."""
        vm = message.vm
        if message.joined and vm in self.states and vm not in self._rows:
            self._rows[vm] = FleetRow(vm)
            self._rows[vm].refresh(self.states[vm], self._palette)
        elif not message.joined and vm in self._rows:
            del self._rows[vm]
            self._dirty.discard(vm)
            self._flushed_at.pop(vm, None)
            if vm in self._visible:
                self.remove_row(vm)
                self._visible.discard(vm)
        else:
            return
        if (measured := self._measure()) != (self._name_width, self._host_width):
            self._name_width, self._host_width = measured
            self.shown_columns = ()  # laid out again for the new names or the host column
            self.on_resize()
        else:
            self._apply_filter()

    def _measure(self) -> tuple[int, int]:
        """The name column's width and the host column's (0: none wanted), for the VMs of now."""
        hosts = [len(state.host) for state in self.states.values() if state.host]
        return min(max([4, *(len(name) for name in self.states)]), 24), min(max([4, *hosts]), 12) if hosts else 0

    def _mark(self, vm: str, urgent: bool = False) -> None:
        self._dirty.add(vm)
        if urgent and (self._in_view(vm) or not self._order_ignores_figures()):
            self._dirty -= (now := self._due() | {vm})
            self.flush(now)

    def _tick(self) -> None:
        self._clock = None  # it has rung: nothing to stop
        if due := self._due():
            self._dirty -= due
            self.flush(due)
        else:
            self._wind_clock()

    def _due(self) -> set[str]:
        """The dirty rows a frame now takes: those not applied for ROW_INTERVAL - TICK (the clock
        comes at most TICK later), in view while that is all that can be seen, and the highlighted VM's."""
        since = time.monotonic() - ROW_INTERVAL + TICK
        highlighted = self.highlighted_vm
        due = {vm for vm in self._dirty if self._flushed_at.get(vm, 0.0) <= since or vm == highlighted}
        if self._order_ignores_figures():
            due = {vm for vm in due if vm == highlighted or self._in_view(vm)}
        return due

    def _wind_clock(self) -> None:
        """The clock's next frame, TICK from now (one that was set goes)."""
        if self._clock is not None:
            self._clock.stop()
        self._clock = self.set_timer(TICK, self._tick)

    def _order_ignores_figures(self) -> bool:
        """True when no sample can move a row, or hide or show it: rows out of view may wait."""
        return self.sort_column == "name" and not self.filter_text.split()

    def _in_view(self, vm: str) -> bool:
        """True when the VM's row is in the table's view (every row is one line)."""
        if vm not in self._visible:
            return False
        first = int(self.scroll_y)
        return first <= self.get_row_index(vm) < first + self.scrollable_content_region.height

    def _catch_up(self) -> None:
        """Bring the rows that waited out of view up to date, now that they are in view."""
        waiting = {vm for vm in self._dirty if self._in_view(vm)}
        if waiting:
            self._dirty -= (now := waiting | self._due())  # this frame puts the clock off: it carries what is due
            self.flush(now)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.is_mounted:
            self._catch_up()

    def flush(self, only: set[str] | None = None) -> None:
        """Apply the dirty rows now (or only the rows of ``only``)."""
        if only is not None:
            dirty = only
        else:
            dirty, self._dirty = self._dirty, set()
        self._wind_clock()  # this frame carries what the clock would have brought
        now = time.monotonic()
        for vm in dirty:
            self._flushed_at[vm] = now
        terms = self.filter_text.lower().split()
        reorder = False
        repaint: list[str] = []
        for vm in dirty:
            row = self._rows[vm]
            changed = row.refresh(self.states[vm], self._palette)
            wanted = row.matches(terms)
            if vm in self._visible and not wanted:
                self.remove_row(vm)
                self._visible.discard(vm)
            elif wanted and vm not in self._visible:
                self._add_row(vm)
                reorder = True
            elif vm in self._visible and changed:
                self._rows_only = True  # update_cell repaints the whole table; repaint the row instead
                try:
                    for key, text in changed.items():
                        if key in self.shown_columns:
                            self.update_cell(vm, key, text)
                finally:
                    self._rows_only = False
                repaint.append(vm)
                reorder = reorder or self.sort_column in changed
        if reorder:
            self._sort()
        for vm in repaint:
            self.refresh_row(self.get_row_index(vm))
        if self.on_applied is not None:
            self.on_applied(dirty)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> FleetTable:
        # During a flush, a cell update asks for the whole table to be painted
        # again: with 50 VMs that is most of the dashboard's CPU. Only the rows
        # that changed are painted (refresh_row, below the update).
        if self._rows_only and not regions and not layout and not recompose:
            return self
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        return self

    # -- filter and sort ----------------------------------------------------

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self.flush()  # rows that waited out of view are matched on their latest figures
            self._apply_filter()

    def watch_sort_column(self) -> None:
        if self.is_mounted:
            self.flush()  # and ordered by them
            self._sort()

    def watch_sort_reverse(self) -> None:
        if self.is_mounted:
            self._sort()

    class SortChosen(Message):
        """The user clicked a sortable column's header."""

        def __init__(self, table: FleetTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> FleetTable:
            return self.table

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        if column in SORTABLE:
            self.post_message(self.SortChosen(self, column))

    def _apply_filter(self) -> None:
        terms = self.filter_text.lower().split()
        for vm, row in self._rows.items():
            wanted = row.matches(terms)
            if wanted and vm not in self._visible:
                self._add_row(vm)
            elif not wanted and vm in self._visible:
                self.remove_row(vm)
                self._visible.discard(vm)
        self._sort()

    def _add_row(self, vm: str) -> None:
        cells = self._rows[vm].cells
        self.add_row(*(cells[key] for key in self.shown_columns), key=vm)
        self._visible.add(vm)

    def _sort_key(self, vm: str | None) -> tuple[Any, str]:
        value = self._rows[vm].sort_values.get(self.sort_column, 0) if vm is not None else 0
        return (value, vm or "")

    def _sort(self) -> None:
        if not self.row_count:
            return
        current = [row.key.value for row in self.ordered_rows]
        wanted = sorted(current, key=self._sort_key, reverse=self.sort_reverse)
        if current == wanted:
            return
        keep = self.highlighted_vm
        self.sort("name", key=lambda name: self._sort_key(name.plain), reverse=self.sort_reverse)
        if keep is not None:
            self.move_cursor(row=self.get_row_index(keep), scroll=False)
