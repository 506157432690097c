"""The dashboard: a Textual App that owns the fleet.

The App owns the :class:`~migtui.qmp.fleet.Fleet` (screens come and go,
connections stay), a :class:`~migtui.widgets.feed.FleetFeed` that turns the
fleet's updates into coalescing messages for the widgets that show them,
and the chart marks of every VM. The actions on a VM (open, migrate, cancel,
postcopy, advice, refresh) are carried out here; which exist, their keys and
words are the table in migtui.screens.vm_actions; commands to QEMU run in workers, and their errors come back as
notifications in QEMU's own words, never as a crash.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Awaitable, Callable
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from migtui.errors import MigtuiError
from migtui.gc_pauses import freeze_start_up
from migtui.model.controls import refusal
from migtui.model.policy import load_policy
from migtui.preferences import PreferenceFile, Preferences
from migtui.qmp import migration
from migtui.qmp.fleet import Fleet
from migtui.qmp.steering import old_to_new, take
from migtui.qmp.updates import PolicyStep, Update
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.error import ErrorScreen
from migtui.screens.fleet import FleetScreen
from migtui.screens.help import HelpScreen
from migtui.screens.migrate import MigrateDialog, MigrationRequest
from migtui.screens.palette import VMCommands
from migtui.screens.params import ParamsScreen
from migtui.screens.snapshots import SnapshotsScreen
from migtui.screens import vm_actions
from migtui.screens.vm import VMScreen
from migtui.screens.vm_actions import BY_NAME
from migtui.themes import THEMES, default_theme_name, stylesheet
from migtui.widgets.feed import FleetFeed
from migtui.widgets.marks import ChartMark, MarkBook

log = logging.getLogger(__name__)
READ_ONLY_WORDS = {"steer": "change of parameters"}
"""How a refused control is named when migtui runs read-only."""


class MigtuiApp(App[None]):
    """Watch and steer the live migrations of a fleet of QEMU VMs."""

    TITLE = "migtui"
    CSS_PATH = stylesheet()
    COMMANDS = App.COMMANDS | {VMCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help",
                tooltip="The keys of this screen and what its figures mean (? or Esc closes)"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave migtui (the VMs are not touched)"),
        # Admins stop terminal tools with Ctrl+C; an Input's own Ctrl+C (copy) still wins while it has focus.
        Binding("ctrl+c", "quit", "Quit", id="app.interrupt", show=False, tooltip="Leave migtui"),
        Binding("f1", "help", "Help", id="app.help-f1", show=False, tooltip="The same help as ?"),
    ]

    def __init__(self, fleet: Fleet, *, start_fleet: bool = True, theme: str | None = None,
                 open_vm: str | None = None, auto_dismiss_jobs: bool = False,
                 preferences: PreferenceFile | None = None) -> None:
        """``start_fleet=False`` leaves connecting to the caller (tests feed
        recorded samples into a fleet that never connects). ``preferences``: the
        file the admin's choices are kept in (None: kept for this run only)."""
        super().__init__()
        self.preferences = preferences
        self._session_choices = Preferences()
        self.fleet = fleet
        self.feed = FleetFeed()
        self.marks = MarkBook()
        self.read_only = fleet.gate.read_only
        self.auto_dismiss_jobs = auto_dismiss_jobs
        """Dismiss a snapshot job that concluded well without asking (failed ones are
        dismissed once their reason is read and shown)."""
        self._start_fleet = start_fleet
        self._open_vm = open_vm
        self._unsubscribe = None
        self._unsubscribe_policy = lambda: None
        self._destinations: dict[str, str] = {}
        """The destination of each migration started here (postcopy needs postcopy-ram on both)."""
        for custom in THEMES:
            self.register_theme(custom)
        # A theme saved from a colour terminal would be black on black under NO_COLOR (see migtui.themes).
        saved = self.chosen.theme if "NO_COLOR" not in os.environ else None
        self._unknown_theme = saved if saved and saved not in self.available_themes else None
        self.theme = theme or (saved if saved and not self._unknown_theme else None) or default_theme_name()
        if self.read_only:
            self.title = "migtui (read-only)"

    def get_default_screen(self) -> Screen:
        return FleetScreen()

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

    def on_mount(self) -> None:
        if self.preferences and self.preferences.problem:
            self.notify(self.preferences.problem, severity="warning", timeout=20, markup=False)
        if self._unknown_theme:
            self.notify(f"{self.preferences.path if self.preferences else 'settings'}: no theme "
                        f"{self._unknown_theme!r}; using {self.theme}", severity="warning", markup=False)
        self._unsubscribe = self.fleet.subscribe(self.feed)
        self._unsubscribe_policy = self.fleet.subscribe(self._mark_policy_step)
        if self._start_fleet:
            self.fleet.start()
        if self._open_vm:
            self.open_vm(self._open_vm)
        self.call_after_refresh(freeze_start_up)

    async def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe_policy()
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
        mark = self.marks.add(vm, text, at)
        self.feed.marks_changed(vm)
        return mark

    def _mark_policy_step(self, update: Update) -> None:
        """A step a policy took is a mark on the VM's charts, as an admin's change is."""
        if isinstance(update, PolicyStep) and update.acted:
            self.add_mark(update.vm, f"{update.policy}: {update.text}")

    # -- actions on a VM (bindings, screens and the palette) ----------------

    def vm_action_allowed(self, name: str, vm: str | None) -> bool | None:
        """For ``check_action`` of an action of the table (migtui.screens.vm_actions): False hides it
        (a control in read-only mode), None greys it out (no VM, or the control cannot act now)."""
        control = BY_NAME[name].control
        if control is None:
            return vm is not None or None
        return self.control_allowed(control, vm)

    def run_vm_action(self, name: str, vm: str) -> None:
        """Carry out the action ``name`` of the table on ``vm`` (a key or the palette)."""
        vm_actions.run(self, name, vm)

    def control_allowed(self, action: str, vm: str | None) -> bool | None:
        """False hides a control (read-only mode), None greys it out (it cannot act on ``vm`` now)."""
        if self.read_only:
            return False
        return None if vm is None or self.why_not(action, vm) else True

    def why_not(self, action: str, vm: str) -> str | None:
        """Why ``action`` cannot act on ``vm`` now, in a line (None: it can)."""
        if self.read_only:
            return f"migtui runs read-only: no {READ_ONLY_WORDS.get(action, action)}."
        state = self.fleet.states.get(vm)
        if state is None:
            return f"No VM named {vm!r}."
        return refusal(action, state, self.fleet.states.get(self._destinations.get(vm, "")))

    def explain(self, name: str, vm: str | None) -> None:
        """The key of action ``name`` was pressed while it cannot act: say why (the footer only greys it out)."""
        control = BY_NAME[name].control or name
        reason = self.why_not(control, vm) if vm else "No VM highlighted."
        if reason:
            self.notify(reason, severity="warning", markup=False)

    def open_vm(self, vm: str) -> None:
        if vm not in self.fleet.states:
            self.notify(f"No VM named {vm!r}.", severity="error")
            return
        if isinstance(self.screen, VMScreen) and self.screen.vm == vm:
            return
        if isinstance(self.screen, VMScreen):
            self.pop_screen()
        self.push_screen(VMScreen(vm))

    def open_params(self, vm: str) -> None:
        """The editor of ``vm``'s migration parameters and capabilities (values only when read-only)."""
        if vm not in self.fleet.states:
            self.notify(f"No VM named {vm!r}.", severity="error")
            return
        self.push_screen(ParamsScreen(vm))

    def open_snapshots(self, vm: str) -> None:
        """``vm``'s snapshots and jobs (listed only, when read-only)."""
        if vm not in self.fleet.states:
            self.notify(f"No VM named {vm!r}.", severity="error")
            return
        self.push_screen(SnapshotsScreen(vm))

    def refresh_vm(self, vm: str) -> None:
        self.fleet.refresh(vm)
        self.notify(f"Reading {vm}'s state again.", timeout=2)

    def ask_migrate(self, vm: str) -> None:
        if self._refuse(vm, "migrate"):
            return
        self.push_screen(MigrateDialog(vm), self._migrate_confirmed)

    def ask_cancel(self, vm: str) -> None:
        if self._refuse(vm, "cancel"):
            return
        question = migration.cancel_question(vm)

        def answered(yes: bool | None) -> None:
            if yes:
                self._control(vm, "cancel", partial(migration.cancel, self.fleet.session(vm)),
                              f"{vm}: migration cancelled")

        self.push_screen(ConfirmDialog(f"Cancel the migration of {vm}", question, yes="Cancel it",
                                       no="Keep migrating"), answered)

    def ask_postcopy(self, vm: str) -> None:
        if self._refuse(vm, "postcopy"):
            return
        question = migration.postcopy_question(vm)

        def answered(yes: bool | None) -> None:
            if yes:
                self._control(vm, "postcopy", partial(migration.start_postcopy, self.fleet.session(vm)),
                              f"{vm}: switched to postcopy")

        self.push_screen(ConfirmDialog(f"Postcopy for {vm}", question, yes="Switch to postcopy"), answered)

    def ask_advice(self, vm: str, name: str) -> None:
        """Take the action the prediction advises on ``name`` (a parameter), after a confirmation."""
        if self._refuse(vm, "steer"):  # as for cancel: a migration of this VM runs, from here
            return
        state = self.fleet.states[vm]
        action = next((a for a in state.prediction().actions if a.name == name), None)
        if action is None:
            self.notify(f"{vm}: the prediction advises no change of {name} now.", severity="warning")
            return
        change = old_to_new(action, state.parameters, state.capabilities)
        question = f"{action.text}.\n\n{change}\n\nBy the model, the migration then completes in about " \
                   f"{action.eta_s:.0f} s." if action.eta_s else f"{action.text}.\n\n{change}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._control(vm, f"advice: {change}", partial(take, self.fleet.session(vm), action),
                              f"{vm}: {change}")

        self.push_screen(ConfirmDialog(f"Advice for {vm}", question, yes="Apply"), answered)

    def _refuse(self, vm: str, action: str) -> bool:
        """Say why ``action`` cannot run now (a palette entry bypasses the key's check)."""
        reason = self.why_not(action, vm)
        if reason:
            self.notify(reason, severity="warning", markup=False)
        return reason is not None

    def _migrate_confirmed(self, request: MigrationRequest | None) -> None:
        if request is None:
            return
        fleet = self.fleet

        async def start() -> None:
            source = fleet.session(request.source)
            target = fleet.session(request.destination) if request.destination else str(request.uri)
            policy = load_policy(request.policy) if request.policy else None
            uri = await migration.start_migration(source, target, request.plan)
            if request.destination:
                self._destinations[request.source] = request.destination
            if policy is not None:
                fleet.apply_policy(request.source, policy)
            fleet.refresh(request.source)
            if request.destination:
                fleet.refresh(request.destination)
            self.add_mark(request.source, f"migrate → {request.target}")
            self.notify(f"{request.source}: migrating to {request.target} ({uri})", markup=False)

        self.run_worker(start, name=f"migrate {request.source}", group=f"control-{request.source}",
                        exclusive=True, exit_on_error=False)

    def _control(self, vm: str, action: str, call: Callable[[], Awaitable[None]], done: str) -> None:
        # Workers get the coroutine function, not a coroutine: an exclusive
        # worker replaced before it starts must not leave one never awaited.
        async def run() -> None:
            await call()
            self.fleet.refresh(vm)
            self.add_mark(vm, action)
            self.notify(done)

        self.run_worker(run, name=f"{action} {vm}", group=f"control-{vm}", exclusive=True, exit_on_error=False)

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
