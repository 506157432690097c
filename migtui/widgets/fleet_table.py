"""The fleet table: every VM a row, cells updated in place by row key.

Samples of 50 VMs at 2 Hz would repaint the table a hundred times a second
if every one touched it at once, and a DataTable repaints all its visible
cells after any change. So samples only mark their row dirty and the table
applies dirty rows together at most every FLUSH_DELAY seconds; what an admin
must see at once (a MIGRATION event, a link going down) is applied
immediately.

Rows are never rebuilt: a row is added when its VM starts matching the
filter and removed when it stops matching, otherwise only the cells whose
text changed are updated.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable

from migtui.model.vm_state import VMState
from migtui.widgets.cell_styles import DEFAULT_PALETTE, CellPalette
from migtui.widgets.feed import EventArrived, FleetFeed, SampleArrived, StateUpdated
from migtui.widgets.fleet_row import COLUMNS, SORTABLE, FleetRow

FLUSH_DELAY = 0.25
"""Seconds a sample may wait before its row is redrawn (samples come at 2 Hz)."""
URGENT_ASPECTS = frozenset({"link", "run-state", "busy"})


class FleetTable(DataTable[Text]):
    """Every VM of the fleet with its migration figures.

    Sort by a column with :attr:`sort_column` (also by clicking its header),
    filter with :attr:`filter_text` (words that must all appear in the VM's
    name, group, link, run state, migration status or outlook).
    """

    DEFAULT_CSS = """
    FleetTable {
        height: 1fr;
        background: $surface;
    }
    """

    filter_text: reactive[str] = reactive("")
    """Words every listed VM matches (case-insensitive); empty lists them all."""
    sort_column: reactive[str] = reactive("name")
    """Column key the rows are ordered by (one of SORTABLE)."""
    sort_reverse: reactive[bool] = reactive(False)
    """Largest first (or Z to A) when True."""

    def __init__(self, states: Mapping[str, VMState], feed: FleetFeed, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(cursor_type="row", fixed_columns=1, id=id, classes=classes)
        self.states = states
        self.feed = feed
        self._rows = {name: FleetRow(name) for name in states}
        self._visible: set[str] = set()
        self._dirty: set[str] = set()
        self._flush_timer: Timer | None = None
        self._palette: CellPalette = DEFAULT_PALETTE

    # -- life cycle ---------------------------------------------------------

    def on_mount(self) -> None:
        name_width = max([4, *(len(name) for name in self.states)])
        for key, header, width in COLUMNS:
            self.add_column(header, key=key, width=min(name_width, 24) if key == "name" else width)
        self._palette = CellPalette.from_theme(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        for name in self.states:
            state = self.states[name]
            if state.latest is not None:
                self._rows[name].add_sample(state.latest)
            self._rows[name].refresh(state, self._palette)
        self._apply_filter()
        self.feed.add(self)

    def on_unmount(self) -> None:
        self.feed.remove(self)

    def _on_theme_changed(self, _theme: object) -> None:
        self._palette = CellPalette.from_theme(self.app.theme_variables)
        self._dirty.update(self._rows)
        self.flush()

    # -- what is highlighted ------------------------------------------------

    @property
    def highlighted_vm(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # no row under the cursor (an empty table)
            return None

    def row_of(self, vm: str) -> FleetRow:
        return self._rows[vm]

    def select_vm(self, vm: str) -> None:
        if vm in self._visible:
            self.move_cursor(row=self.get_row_index(vm))

    # -- updates from the fleet ---------------------------------------------

    def on_sample_arrived(self, message: SampleArrived) -> None:
        state = self.states.get(message.vm)
        if state is None or message.stale(state):
            return  # a newer sample of this VM is queued behind this one
        self._rows[message.vm].add_sample(message.sample)
        self._mark(message.vm)

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.vm in self._rows:
            self._mark(message.vm, urgent=message.aspect in URGENT_ASPECTS)

    def on_event_arrived(self, message: EventArrived) -> None:
        event = message.event
        if event.name == "MIGRATION" and message.vm in self._rows:
            self._rows[message.vm].add_status_event(event.at, str(event.data.get("status")))
            self._mark(message.vm, urgent=True)

    def _mark(self, vm: str, urgent: bool = False) -> None:
        self._dirty.add(vm)
        if urgent:
            self.flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Apply every dirty row now."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        dirty, self._dirty = self._dirty, set()
        terms = self.filter_text.lower().split()
        reorder = False
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
            elif vm in self._visible:
                for key, text in changed.items():
                    self.update_cell(vm, key, text)
                reorder = reorder or self.sort_column in changed
        if reorder:
            self._sort()

    # -- filter and sort ----------------------------------------------------

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self._apply_filter()

    def watch_sort_column(self) -> None:
        if self.is_mounted:
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
        self.add_row(*(cells[key] for key, _, _ in COLUMNS), key=vm)
        self._visible.add(vm)

    def _sort_key(self, vm: str) -> tuple:
        value = self._rows[vm].sort_values.get(self.sort_column, 0)
        return (value, vm)

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
