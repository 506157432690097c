"""The dashboard: a Textual App that owns the fleet.

The App composes the dashboard: it owns the :class:`~migtui.qmp.fleet.Fleet`
(screens come and go, connections stay), a :class:`~migtui.widgets.feed.FleetFeed`
that turns the fleet's updates into coalescing messages for the widgets that
show them, the chart marks of every VM, and the one
:class:`~migtui.screens.vm_controls.VMControls` that carries out the actions
on a VM (which exist, their keys and words: the table in
migtui.ops.actions). Screens get the states, the feed and the
controls when they are made. Commands to QEMU run in the App's workers, and
their errors come back here as notifications in QEMU's own words, never as
a crash.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from migtui.errors import MigtuiError
from migtui.gc_pauses import freeze_start_up
from migtui.params.forms import known_forms, release_of
from migtui.preferences import PreferenceFile, Preferences
from migtui.qapi.version import QemuVersion
from migtui.qmp.fleet_view import DashboardFleet
from migtui.qmp.updates import AlertRaised, Aspect, PolicyStep, Update, VMChanged
from migtui.screens.contained_failures import ContainsScreenFailures
from migtui.screens.error import ErrorScreen
from migtui.screens.fleet import FleetScreen
from migtui.screens.help import HelpScreen
from migtui.screens.palette import VMCommands
from migtui.screens.vm_controls import VMControls
from migtui.themes import THEMES, default_theme_name, stylesheet
from migtui.widgets.feed import FleetFeed
from migtui.widgets.marks import ChartMark, MarkBook

log = logging.getLogger(__name__)


class MigtuiApp(ContainsScreenFailures):
    """Watch and steer the live migrations of a fleet of QEMU VMs."""

    TITLE = "migtui"
    CSS_PATH = stylesheet()
    COMMANDS = App.COMMANDS | {VMCommands}
    CONTROLS: ClassVar[type[VMControls]] = VMControls
    """What carries out the actions on a VM (a replay has its own: there is no VM to act on)."""
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help",
                tooltip="The keys of this screen and what its figures mean (? or Esc closes)"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave migtui (the VMs are not touched)"),
        # Admins stop terminal tools with Ctrl+C; an Input's own Ctrl+C (copy) still wins while it has focus.
        Binding("ctrl+c", "quit", "Quit", id="app.interrupt", show=False, tooltip="Leave migtui"),
        Binding("f1", "help", "Help", id="app.help-f1", show=False, tooltip="The same help as ?"),
    ]

    def __init__(self, fleet: DashboardFleet, *, start_fleet: bool = True, theme: str | None = None,
                 open_vm: str | None = None, auto_dismiss_jobs: bool = False,
                 preferences: PreferenceFile | None = None, bell: bool = False) -> None:
        """``start_fleet=False`` leaves connecting to the caller (tests feed
        recorded samples into a fleet that never connects). ``preferences``: the
        file the admin's choices are kept in (None: kept for this run only).
        ``bell``: ring the terminal's bell with each alert (``[settings] bell``)."""
        super().__init__()
        self.preferences = preferences
        self._session_choices = Preferences()
        self.fleet = fleet
        self.feed = FleetFeed()
        self.marks = MarkBook()
        self.read_only = fleet.gate.read_only
        self.controls = self.CONTROLS(fleet, self, self.feed, self.marks, auto_dismiss_jobs=auto_dismiss_jobs)
        self._start_fleet = start_fleet
        self._open_vm = open_vm
        self._bell = bell
        self._unsubscribes: list[Callable[[], None]] = []
        self._forms_prepared: set[QemuVersion] = set()
        for custom in THEMES:
            self.register_theme(custom)
        # A theme saved from a colour terminal would be black on black under NO_COLOR (see migtui.themes).
        saved = self.chosen.theme if "NO_COLOR" not in os.environ else None
        self._unknown_theme = saved if saved and saved not in self.available_themes else None
        self.theme = theme or (saved if saved and not self._unknown_theme else None) or default_theme_name()
        if self.read_only:
            self.title = "migtui (read-only)"

    def get_default_screen(self) -> Screen[Any]:
        return FleetScreen(self.fleet.states, self.feed, self.controls, hosts=self.fleet.hosts)

    @property
    def chosen(self) -> Preferences:
        """The admin's remembered choices (theme, chart window, sort)."""
        return self.preferences.values if self.preferences else self._session_choices

    def remember(self, **changes: object) -> None:
        """Keep a choice for the next start (the preferences file), or for this run."""
        if self.preferences:
            self.preferences.update(**changes)
        else:
            self._session_choices = self._session_choices.model_copy(update=changes)

    def watch_theme(self, theme: str) -> None:
        if self.is_running:  # picked in the palette; --theme is set before the start and is no choice to keep
            self.remember(theme=theme)

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice; on Linux and macOS, one that ends the app when the terminal goes away."""
        chosen = super().get_driver_class()
        if sys.platform == "win32":
            return chosen
        from textual.drivers.linux_driver import LinuxDriver

        from migtui.terminal_driver import TerminalDriver
        return TerminalDriver if chosen is LinuxDriver else chosen  # one TEXTUAL_DRIVER names stays

    def on_mount(self) -> None:
        if self.preferences and self.preferences.problem:
            self.notify(self.preferences.problem, severity="warning", timeout=20, markup=False)
        if self._unknown_theme:
            self.notify(f"{self.preferences.path if self.preferences else 'settings'}: no theme "
                        f"{self._unknown_theme!r}; using {self.theme}", severity="warning", markup=False)
        subscribers = (self.feed, self._mark_policy_step, self._prepare_forms, self._show_alert)
        self._unsubscribes = [self.fleet.subscribe(subscriber) for subscriber in subscribers]
        if self._start_fleet:
            self.fleet.start()
        if self._open_vm:
            self.controls.open_vm(self._open_vm)
        self.call_after_refresh(freeze_start_up)

    async def on_unmount(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        if self._start_fleet:
            await self.fleet.close()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(self.screen))

    # -- marks: the hook for annotations on the charts ----------------------

    def add_mark(self, vm: str, text: str, at: float | None = None) -> ChartMark:
        """Mark a moment on every chart of ``vm`` (a vertical line labelled ``text``)."""
        return self.controls.mark(vm, text, at)

    def _mark_policy_step(self, update: Update) -> None:
        """A step a policy took is a mark on the VM's charts, as an admin's change is."""
        if isinstance(update, PolicyStep) and update.acted:
            self.add_mark(update.vm, f"{update.policy}: {update.text}")

    def _show_alert(self, update: Update) -> None:
        if isinstance(update, AlertRaised):
            self.show_alert(update.vm, update.when, update.summary)

    def show_alert(self, vm: str, when: str, summary: str) -> None:
        """An alert of the inventory fired (migtui.alerts): a notification that stays a while."""
        self.notify(summary, title=f"{vm}: {when}", markup=False, timeout=60,
                    severity="error" if when in ("failed", "host-down") else "warning")
        if self._bell:
            self.bell()

    def _prepare_forms(self, update: Update) -> None:
        """Build the parameters editor's forms of a QEMU release in a thread once a VM of it
        connects: the editor's first open then has them at hand (they take about 25 ms)."""
        if not (isinstance(update, VMChanged) and update.aspect is Aspect.LINK):
            return
        session = self.fleet.sessions[update.vm]
        release = release_of(session)
        if release is not None and release not in self._forms_prepared:
            self._forms_prepared.add(release)
            self.run_worker(partial(known_forms, session), thread=True, group="forms", exit_on_error=False)

    # -- errors -------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error, event.worker.name or "A command")

    def show_error(self, error: BaseException, doing: str) -> None:
        """QEMU's refusals and lost links as a notification in their own words; bugs on an error screen.

        Both are logged too: a notification fades, and a bug wants its traceback kept."""
        if isinstance(error, MigtuiError):
            log.warning("%s failed: %s", doing, error)
            self.notify(str(error), title=f"{doing} failed", severity="error", timeout=15, markup=False)
            return
        log.error("%s failed unexpectedly", doing, exc_info=error)
        title, message = f"{doing} failed unexpectedly", f"{type(error).__name__}: {error}"
        shown = self.screen
        if isinstance(shown, ErrorScreen) and (shown.title_text, shown.message) == (title, message):
            return  # a retry failing the same way (a dialog re-checking): one screen is enough
        self.push_screen(ErrorScreen(title, message, "".join(traceback.format_exception(error))))
