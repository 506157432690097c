"""A VM's QMP events: time, name and data of each, filterable by typing."""

from __future__ import annotations

import json
import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Input

from migtui.model.events import QMPEvent
from migtui.model.vm_state import VMState
from migtui.widgets.feed import EventArrived, FleetFeed
from migtui.widgets.ordered_input import OrderedInput

MAX_ROWS = 2000


def event_time(event: QMPEvent) -> str:
    """QEMU's timestamp of the event, local time to the millisecond."""
    return time.strftime("%H:%M:%S", time.localtime(event.wall)) + f".{int(event.wall % 1 * 1000):03d}"


def event_data(event: QMPEvent) -> str:
    return ", ".join(f"{key}={value if isinstance(value, (str, int, float)) else json.dumps(value)}"
                     for key, value in event.data.items())


class EventLog(Vertical):
    """Every QMP event of one VM since migtui connected, newest last.

    Follows new events while the cursor is on the last row; stays put when
    the user has moved up to read.
    """

    DEFAULT_CSS = """
    EventLog {
        height: 1fr;
    }
    EventLog > Input, EventLog > Input:focus {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    EventLog > Input:focus {
        background: $primary 30%;
    }
    EventLog > DataTable {
        height: 1fr;
        background: $surface;
    }
    """

    filter_text: reactive[str] = reactive("")
    """Words every listed event matches in its name or data (case-insensitive)."""

    def __init__(self, state: VMState, feed: FleetFeed, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.feed = feed

    def compose(self) -> ComposeResult:
        yield OrderedInput(placeholder="filter events (name or data), e.g. MIGRATION or status=active")
        yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("time", key="time", width=12)
        table.add_column("event", key="event", width=20)
        table.add_column("data", key="data")
        self._fill()
        self.feed.add(self, self.state.name)

    def on_unmount(self) -> None:
        self.feed.remove(self)

    def focus_filter(self) -> None:
        self.query_one(Input).focus()

    def focus_table(self) -> None:
        self.query_one(DataTable).focus()

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value

    @on(Input.Submitted)
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self._fill()

    def on_event_arrived(self, message: EventArrived) -> None:
        table = self.query_one(DataTable)
        following = table.cursor_row >= table.row_count - 1
        if self._add(table, message.event) and following:
            table.move_cursor(row=table.row_count - 1)

    def _matches(self, event: QMPEvent) -> bool:
        text = f"{event.name} {event_data(event)}".lower()
        return all(term in text for term in self.filter_text.lower().split())

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for event in self.state.events:
            self._add(table, event)
        table.move_cursor(row=max(0, table.row_count - 1))

    def _add(self, table: DataTable[object], event: QMPEvent) -> bool:
        if not self._matches(event):
            return False
        table.add_row(Text(event_time(event)), Text(event.name), Text(event_data(event)))
        if table.row_count > MAX_ROWS:
            table.remove_row(table.ordered_rows[0].key)
        return True
