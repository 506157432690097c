"""The fleet screen: every VM in a table, the highlighted one in brief."""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widgets import DataTable, Input

from migtui.fleet_columns import COLUMNS, SORTABLE
from migtui.model.link import LinkState
from migtui.model.vm_state import VMState
from migtui.ops.actions import VM_ACTIONS
from migtui.qmp.hosts import HostPool
from migtui.screens.controls_api import Controls
from migtui.screens.vm_actions import vm_bindings
from migtui.widgets.feed import FleetFeed
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.ordered_input import OrderedInput
from migtui.widgets.steady_footer import SteadyFooter
from migtui.widgets.steady_header import SteadyHeader
from migtui.widgets.vm_brief import VMBrief

HEADERS = {key: header for key, header, _ in COLUMNS}


class FleetScreen(Screen[None]):
    """Fleet overview: sort, filter, open a VM, start or steer its migration."""

    BINDINGS = [
        *vm_bindings("fleet"),
        # At 80 columns the footer holds the controls, Help and Quit; the filter box says its key
        # itself, and both keys are on the help screen (?).
        Binding("slash", "filter", "Filter", id="fleet.filter", show=False,
                tooltip="Type words to list only the VMs whose name, group, host, state or outlook match"),
        Binding("s", "sort", "Sort", id="fleet.sort", show=False,
                tooltip="Order by the next column (name, status, figures)"),
        Binding("S", "reverse", "Reverse", id="fleet.reverse", show=False, tooltip="Reverse the order"),
        Binding("escape", "clear_filter", "Clear filter", id="fleet.clear-filter", show=False),
    ]

    filter_text: reactive[str] = reactive("")
    """What the filter box holds; the table lists the VMs that match."""
    sort_column: reactive[str] = reactive("name")
    sort_reverse: reactive[bool] = reactive(False)
    vm: reactive[str | None] = reactive(None)
    """The highlighted VM."""
    sub_title: Reactive[str | None] = Reactive(None, compute=False, repaint=False)
    """The fleet in one line (the header shows it). Screen's own sub-title repaints the whole
    screen at each change, every row of the table with it, and this one changes every few seconds."""

    _allowed: tuple[bool | None, ...] = ()

    def __init__(self, states: Mapping[str, VMState], feed: FleetFeed, controls: Controls, *,
                 hosts: HostPool | None = None) -> None:
        """``hosts``: the SSH and libvirt hosts the VMs are on (the subtitle says which are not up)."""
        super().__init__()
        self.states = states
        self.feed = feed
        self.controls = controls
        self.hosts = hosts

    def compose(self) -> ComposeResult:
        yield SteadyHeader()
        yield OrderedInput(placeholder="/ filter: words in name, group, host, state, outlook (Esc clears)",
                           id="fleet-filter")
        yield FleetTable(self.states, self.feed, on_applied=self._rows_applied, id="fleet-table").data_bind(
            FleetScreen.filter_text, FleetScreen.sort_column, FleetScreen.sort_reverse)
        self._brief = VMBrief(self.states, advice_keys=not self.controls.read_only, live=self.controls.live,
                              id="fleet-brief").data_bind(
            FleetScreen.vm)
        yield self._brief
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        chosen = self.controls.stack.chosen
        self.sort_column, self.sort_reverse = chosen.sort, chosen.sort_reverse
        table = self.query_one(FleetTable)
        table.focus()
        self.vm = table.highlighted_vm
        self.set_interval(1.0, self._update_subtitle)
        self._update_subtitle()

    def _rows_applied(self, vms: set[str]) -> None:
        """The table drew these rows: the brief follows in the same frame, from the same sample."""
        if self._brief.vm in vms:
            self._brief.show()

    def on_screen_resume(self) -> None:
        self._update_subtitle()  # its timer stood still while another screen was on top

    def _sorted(self) -> None:
        """The admin chose an order: kept for the next start, and said in the subtitle."""
        self.controls.stack.remember(sort=self.sort_column, sort_reverse=self.sort_reverse)
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        states = self.states.values()
        migrating = sum(1 for s in states if s.migrating_out)
        down = sum(1 for s in states if s.link is LinkState.DISCONNECTED)
        parts = [f"{len(states)} VMs", f"{migrating} migrating"]
        if hosts := (self.hosts.every_host() if self.hosts else []):  # SSH and libvirt hosts; none: nothing said
            away = [host.name for host in hosts if not host.up]
            parts.insert(1, f"{len(hosts)} hosts" + (f" ({', '.join(away)} not up)" if away else ""))
        if down:
            parts.append(f"{down} down")
        parts.append(f"sorted by {HEADERS[self.sort_column]}{' ↓' if self.sort_reverse else ''}")
        self.sub_title = " · ".join(parts)
        self._follow_controls()

    def _follow_controls(self) -> None:
        """Grey out the controls as the highlighted VM's migration comes and goes.

        Only when that changes: refreshing the bindings rebuilds the footer."""
        allowed = tuple(self.controls.allowed(action.name, self.vm) for action in VM_ACTIONS if action.control)
        if allowed != self._allowed:
            self._allowed = allowed
            self.refresh_bindings()

    # -- table events -------------------------------------------------------

    @on(DataTable.RowHighlighted, "#fleet-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None:
            return  # no row under the cursor (an empty or refilled table): the VM stays the one shown
        self.vm = event.row_key.value
        self._follow_controls()

    @on(DataTable.RowSelected, "#fleet-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.controls.open_vm(event.row_key.value)

    @on(FleetTable.SortChosen)
    def _sort_chosen(self, event: FleetTable.SortChosen) -> None:
        if event.column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = event.column, False
        self._sorted()

    @on(Input.Changed, "#fleet-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        # The VM the keys act on is one the table lists: none when the filter matches nothing.
        self.vm = self.query_one(FleetTable).highlighted_vm
        self._follow_controls()

    @on(Input.Submitted, "#fleet-filter")
    def _filter_done(self) -> None:
        self.query_one(FleetTable).focus()

    # -- actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "vm":
            return self.controls.allowed(str(parameters[0]), self.vm)
        return True

    def action_vm(self, name: str) -> None:
        if self.vm:
            self.controls.run(name, self.vm)

    def action_explain(self, name: str) -> None:
        self.controls.explain(name, self.vm)

    def action_filter(self) -> None:
        self.query_one("#fleet-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#fleet-filter", Input).value = ""
        self.query_one(FleetTable).focus()

    def action_sort(self) -> None:
        position = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
        self.sort_column = SORTABLE[(position + 1) % len(SORTABLE)]
        self._sorted()

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._sorted()
