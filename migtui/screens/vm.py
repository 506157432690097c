"""The VM screen: one VM's charts, latest sample, events and prediction.

The screen is the VM's only viewer in the feed for samples: it keeps the
newest sample, the window and the marks as reactives and binds them into
its widgets (``data_bind``), which redraw themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static, TabbedContent, TabPane

from migtui.model.convergence import Verdict
from migtui.model.link import LinkState
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.preferences import CHART_WINDOWS
from migtui.qmp.policy import PolicyRunner
from migtui.qmp.updates import Aspect
from migtui.report.samples_out import export_samples
from migtui.screens.controls_api import Controls
from migtui.screens.vm_actions import vm_bindings
from migtui.units import human_bytes, percent_done
from migtui.widgets.charts import DowntimeChart, RateChart, RemainingChart, ThrottleChart
from migtui.widgets.event_log import EventLog
from migtui.widgets.feed import FleetFeed, MarksChanged, SampleArrived, StateUpdated
from migtui.widgets.figures import clock
from migtui.widgets.fleet_row import LOOPING
from migtui.widgets.marks import ChartMark, MarkBook
from migtui.widgets.prediction_panel import PredictionPanel
from migtui.widgets.sample_panel import SamplePanel

SHORT_SCREEN = 34
"""Lines below which the charts scroll instead of sharing the height (see migtui.tcss)."""
WINDOWS: tuple[tuple[float | None, str], ...] = tuple((seconds, label) for label, seconds in CHART_WINDOWS.items())


class VMScreen(Screen[None]):
    """Everything about one VM; Escape goes back to the fleet."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="vm.back", tooltip="Back to the fleet"),
        *vm_bindings("vm"),
        Binding("w", "window", "Window", id="vm.window", show=False,
                tooltip="History on the charts: 1 min, 10 min, all"),
        Binding("1", "tab('charts')", "Charts", id="vm.charts", show=False, tooltip="Show the charts"),
        Binding("2", "tab('sample')", "Sample", id="vm.sample", show=False,
                tooltip="Show every field of the latest sample"),
        Binding("3", "tab('events')", "Events", id="vm.events", show=False, tooltip="Show the event log"),
        Binding("slash", "filter_events", "Filter", id="vm.filter-events", show=False,
                tooltip="Filter the event log"),
        Binding("x", "export", "Export", id="vm.export", show=False,
                tooltip="Write the samples in the charts' window as CSV and JSON lines (window 'all': all kept)"),
    ]

    AUTO_FOCUS = "#vm-charts"
    """The charts: what the screen is for, and at 80x24 the keys must scroll them."""

    sample: reactive[Sample | None] = reactive(None)
    """The VM's newest sample."""
    window: reactive[float | None] = reactive(60.0)
    """Seconds of history on the charts (None: all)."""
    marks_version: reactive[int] = reactive(0)
    settings_version: reactive[int] = reactive(0)
    link: reactive[LinkState] = reactive(LinkState.CONNECTING)
    """The VM's link: once it is down, the prediction stops advising on old figures."""

    def __init__(self, state: VMState, feed: FleetFeed, controls: Controls, *, marks: MarkBook,
                 policies: Mapping[str, PolicyRunner]) -> None:
        """``marks``: the fleet's chart marks; ``policies``: the policy each VM follows
        (the panel says its next step)."""
        super().__init__()
        self.state = state
        self.vm = state.name
        self.feed = feed
        self.controls = controls
        self.marks = marks
        self.policies = policies

    def compose(self) -> ComposeResult:
        state = self.state

        def marks() -> list[ChartMark]:
            return self.marks.of(self.vm)

        yield Header()
        yield Static(id="vm-title")
        # Scrolls where a short screen caps its height (Tab to it; Up, Down, End read the rest).
        with VerticalScroll(id="vm-prediction-scroll"):
            yield PredictionPanel(state, self.policies, advice_keys=not self.controls.read_only,
                                  id="vm-prediction").data_bind(
                VMScreen.sample, VMScreen.settings_version, VMScreen.link)
        with TabbedContent(initial="charts"):
            # the charts' container is focusable: the keys scroll it where it does not fit
            with TabPane("Charts [1]", id="charts"), ScrollableContainer(id="vm-charts"):
                for chart in (RateChart, RemainingChart, DowntimeChart, ThrottleChart):
                    yield chart(state, marks).data_bind(
                        VMScreen.sample, VMScreen.window, VMScreen.marks_version, VMScreen.settings_version)
            with TabPane("Sample [2]", id="sample"):
                yield SamplePanel(id="vm-sample").data_bind(VMScreen.sample)
            with TabPane("Events [3]", id="events"):
                yield EventLog(state, self.feed, id="vm-events")
        # 80 columns hold the VM's keys, Help and Quit; Ctrl+P is on the help screen.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.window = self.controls.stack.chosen.window_seconds
        self.feed.add(self, self.vm)
        self.sample = self.state.latest
        self.link = self.state.link
        self._update_title()

    def on_unmount(self) -> None:
        self.feed.remove(self)

    def on_resize(self) -> None:
        self.set_class(self.size.height < SHORT_SCREEN, "-short")

    # -- updates ------------------------------------------------------------

    def on_sample_arrived(self, message: SampleArrived) -> None:
        if not message.stale(self.state):
            self.sample = message.sample
            self._update_title()

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.aspect is Aspect.SETTINGS:
            self.settings_version += 1
        self.link = self.state.link
        self._update_title()
        self.refresh_bindings()

    def on_marks_changed(self, message: MarksChanged) -> None:
        self.marks_version += 1

    def _update_title(self) -> None:
        state = self.state
        parts = [self.vm]
        if state.link is not LinkState.CONNECTED:
            parts.append(f"link {state.link}" + (f": {state.link_error}" if state.link_error else ""))
        else:
            parts.append(state.run_state or "?")
            if state.busy:
                parts.append(f"busy ({state.busy_for:.0f} s without an answer)")
            if state.poll_error:
                parts.append(f"poll failed: {state.poll_error}")
        sample = state.latest
        if sample is not None and sample.status != "none" and not sample.snapshot:  # a job's figures: no migration
            parts.append(f"last seen {clock(sample.wall)}: {sample.status}" if state.stale else sample.status)
            if sample.active and sample.info.ram:
                parts.append(f"pass {sample.passes}")
                if state.prediction().verdict is Verdict.NOT_CONVERGING:
                    parts.append(LOOPING)  # as the fleet's row: it sends its working set again every pass
                elif sample.progress is not None:
                    parts.append(percent_done(sample.progress))
                parts.append(f"{human_bytes(sample.remaining)} left")
        parts.append(f"window {self._window_label()}")
        self.query_one("#vm-title", Static).update(" · ".join(parts))
        self.sub_title = self.vm

    def _window_label(self) -> str:
        return next(label for seconds, label in WINDOWS if seconds == self.window)

    # -- actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "vm":
            return self.controls.allowed(str(parameters[0]), self.vm)
        return True

    def action_vm(self, name: str) -> None:
        self.controls.run(name, self.vm)

    def action_explain(self, name: str) -> None:
        self.controls.explain(name, self.vm)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.focused.value = ""
            self.query_one(EventLog).focus_table()
            return
        self.dismiss()

    def action_window(self) -> None:
        position = [seconds for seconds, _ in WINDOWS].index(self.window)
        self.window = WINDOWS[(position + 1) % len(WINDOWS)][0]
        self.controls.stack.remember(chart_window=self._window_label())
        self._update_title()
        self.notify(f"Charts show {self._window_label()} of history.", timeout=2)

    def action_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = tab
        # Focus goes with the tab, to what it shows (not a filter): left on the pane just hidden, it
        # would fall back to the event filter typed in last, whose pane then takes the tab back.
        shown = next((widget for widget in tabs.get_pane(tab).query("*")
                      if widget.focusable and not isinstance(widget, Input)), None)
        if shown is not None:
            shown.focus()

    def action_filter_events(self) -> None:
        self.query_one(TabbedContent).active = "events"
        self.query_one(EventLog).focus_filter()

    def action_export(self) -> None:
        samples = self.state.tracker.history.window(self.window)
        try:
            paths = export_samples(self.vm, samples, Path.cwd())
        except OSError as error:
            self.notify(f"Cannot write the export: {error.strerror or error}", severity="error")
            return
        self.notify(f"{len(samples)} samples written to {paths[0].name} and {paths[1].name} in {paths[0].parent}.",
                    timeout=6, markup=False)
