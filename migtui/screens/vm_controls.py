"""What the dashboard's VM actions do: one object, made once by the App, given to the screens.

:class:`VMControls` carries out each action of the table in
:mod:`migtui.ops.actions` (:meth:`VMControls.carried_out` says what carries out each verb),
checks whether it can act (:mod:`migtui.model.controls`, and the gate's
read-only mode), asks first where an action is destructive, and makes every
change through :meth:`Fleet.change <migtui.qmp.fleet.Fleet.change>`: the
command goes through the gate, and the work ends once the VMs it touched
were read again, so every screen shows QEMU's new values as it says "done".

Screens get this object (as :class:`~migtui.screens.controls_api.Controls`),
the VMs' states and the feed in their constructors instead of reaching into
the App; what it needs of the App is the screen stack
(:class:`~migtui.screens.controls_api.ScreenStack`), to push a dialog, tell
the user and run work that outlives the screen it was started from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TypeVar

from migtui.model.controls import Control, MigrationFacts, read_only_refusal, refusal
from migtui.model.vm_state import VMState
from migtui.ops import advice, migrate, recover
from migtui.ops.actions import BY_NAME, VM_ACTIONS, VMVerb, advised
from migtui.ops.cancel import CANCEL
from migtui.ops.pause import PAUSE
from migtui.ops.policy import policy_for
from migtui.ops.postcopy import POSTCOPY
from migtui.ops.verb import MigrationVerb
from migtui.qmp.fleet_view import DashboardFleet
from migtui.qmp.queries import Queries
from migtui.qmp.session import VMSession
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.controls_api import ScreenStack
from migtui.screens.migrate import MigrateDialog, MigrationRequest
from migtui.screens.params import ParamsScreen
from migtui.screens.snapshots import SnapshotsScreen
from migtui.screens.vm import VMScreen
from migtui.widgets.feed import FleetFeed
from migtui.widgets.marks import ChartMark, MarkBook

Result = TypeVar("Result")

class VMControls:
    """Every action on the fleet's VMs, checked, confirmed where destructive, made through the fleet."""

    def __init__(self, fleet: DashboardFleet, stack: ScreenStack, feed: FleetFeed, marks: MarkBook, *,
                 auto_dismiss_jobs: bool = False) -> None:
        self.fleet = fleet
        self.stack = stack
        self.feed = feed
        self.marks = marks
        self.read_only = fleet.gate.read_only
        self.auto_dismiss_jobs = auto_dismiss_jobs
        """Dismiss a snapshot job that concluded well without asking (failed ones are
        dismissed once their reason is read and shown)."""
        self.destinations: dict[str, str] = {}
        """The destination of each migration started here (postcopy needs postcopy-ram on both)."""

    @property
    def states(self) -> dict[str, VMState]:
        return self.fleet.states

    def session(self, vm: str) -> Queries:
        """``vm``'s session, for queries (a list, a pre-flight check); changes go through :meth:`change`."""
        return self.fleet.session(vm)

    def watch_settings(self, vm: str) -> Callable[[], None]:
        """Keep ``vm``'s parameters and capabilities fresh while a screen shows them (call the result to stop)."""
        return self.fleet.watch_settings(vm)

    async def change_now(self, vm: str, make: Callable[[VMSession], Awaitable[Result]]) -> Result:
        """:meth:`change` for a screen that shows QEMU's answer itself: awaited, and a failure is raised."""
        return await self.fleet.change(vm, make)

    # -- whether an action can act (keys, footer, help, palette) --------------

    live = True
    """The VMs are there to act on and to reconnect to (a replay's are a recording)."""

    def allowed(self, name: str, vm: str | None) -> bool | None:
        """For ``check_action`` of an action of the table: False hides it (a control in
        read-only mode), None greys it out (no VM, or the control cannot act now)."""
        control = BY_NAME[name].control
        if control is None:
            return vm is not None or None
        may = self.may(control, vm)
        advises = BY_NAME[name].advises
        if may and vm is not None and advises is not None and self._not_advised(vm, advises):
            return None  # it may steer, but the prediction offers no change of that setting now
        return may

    def may(self, control: Control, vm: str | None) -> bool | None:
        """False hides a control (read-only mode), None greys it out (it cannot act on ``vm`` now)."""
        if self.read_only:
            return False
        return None if vm is None or self.why_not(control, vm) else True

    def why_not(self, control: Control, vm: str) -> str | None:
        """Why ``control`` cannot act on ``vm`` now, in a line (None: it can)."""
        if self.read_only:
            return read_only_refusal(control)
        state = self.states.get(vm)
        if state is None:
            return f"No VM named {vm!r}."
        destination = self.states.get(self.destinations.get(vm, ""))
        return refusal(control, MigrationFacts.of(state), MigrationFacts.of(destination) if destination else None)

    def explain(self, name: str, vm: str | None) -> None:
        """The key of ``name`` was pressed while it cannot act: say why (the footer only greys it out)."""
        control = BY_NAME[name].control
        if control is None:
            return
        advises = BY_NAME[name].advises
        reason = (self.why_not(control, vm) or (self._not_advised(vm, advises) if advises else None)) if vm \
            else "No VM highlighted."
        if reason:
            self.stack.notify(reason, severity="warning", markup=False)

    def run(self, name: str, vm: str) -> None:
        """Carry out the action ``name`` of the table on ``vm`` (a key or the palette)."""
        self.carried_out()[BY_NAME[name].verb](vm)

    def carried_out(self) -> dict[VMVerb, Callable[[str], None]]:
        """What carries out each verb of the action table, given a VM."""
        handlers: dict[VMVerb, Callable[[str], None]] = {
            VMVerb.OPEN: self.open_vm, VMVerb.MIGRATE: self.migrate, VMVerb.CANCEL: self.cancel,
            VMVerb.POSTCOPY: self.postcopy, VMVerb.PARAMETERS: self.open_params,
            VMVerb.SNAPSHOTS: self.open_snapshots, VMVerb.REFRESH: self.refresh,
            VMVerb.RECOVER: self.recover, VMVerb.PAUSE: self.pause_postcopy,
        }
        for action in VM_ACTIONS:
            if (name := action.advises) is not None:
                handlers[action.verb] = partial(self.take_advice, name=name)
        return handlers

    def _refused(self, vm: str, control: Control) -> bool:
        """Say why ``control`` cannot act now (a palette entry bypasses the key's check)."""
        reason = self.why_not(control, vm)
        if reason:
            self.stack.notify(reason, severity="warning", markup=False)
        return reason is not None

    # -- the actions of the table ---------------------------------------------

    def open_vm(self, vm: str) -> None:
        if self._unknown(vm):
            return
        shown = self.stack.screen
        if isinstance(shown, VMScreen):
            if shown.vm == vm:
                return
            self.stack.pop_screen()
        self.stack.push_screen(VMScreen(self.states[vm], self.feed, self, marks=self.marks,
                                        policies=self.fleet.policies))

    def open_params(self, vm: str) -> None:
        """The editor of ``vm``'s migration parameters and capabilities (values only when read-only)."""
        if not self._unknown(vm):
            self.stack.push_screen(ParamsScreen(self.states[vm], self.feed, self))

    def open_snapshots(self, vm: str) -> None:
        """``vm``'s snapshots and jobs (listed only, when read-only); refused at once, saying why, for a VM
        whose snapshots another tool keeps."""
        if self._unknown(vm):
            return
        if (refused := self.session(vm).snapshots_refused) is not None:
            self.stack.notify(f"{vm}: {refused}", severity="warning", timeout=10, markup=False)
            return
        self.stack.push_screen(SnapshotsScreen(self.states[vm], self.feed, self))

    def refresh(self, vm: str) -> None:
        async def nothing(session: VMSession) -> None:
            """A change of nothing: the fleet reads the VM again all the same."""

        self.stack.notify(f"Reading {vm}'s state again.", timeout=2)
        self.change(vm, nothing, doing="refresh", done=None, mark=False, group=f"refresh-{vm}", exclusive=True)

    def migrate(self, vm: str) -> None:
        if not self._refused(vm, migrate.CONTROL):
            self.stack.push_screen(MigrateDialog(vm, self), self._migrate_confirmed)

    def cancel(self, vm: str) -> None:
        self._steer(vm, CANCEL)

    def postcopy(self, vm: str) -> None:
        self._steer(vm, POSTCOPY)

    def pause_postcopy(self, vm: str) -> None:
        self._steer(vm, PAUSE)

    def recover(self, vm: str) -> None:
        """Recover ``vm``'s paused postcopy: checked, asked (naming both VMs), made on both, told."""
        if self._refused(vm, recover.CONTROL):
            return
        destination = recover.destination_among(self.states, vm, self.destinations.get(vm))
        if destination is None:
            self.stack.notify(f"{vm}: which VM its postcopy went to is not known here (none or several are "
                              f"paused); recover it with migtui recover {vm} --to DESTINATION.",
                              severity="warning", markup=False)
            return
        question = recover.question(vm, destination)
        step = recover.step(self.fleet.session(destination))
        self.ask(question.title, question.text, yes=question.yes,
                 then=lambda: self.change(vm, step, doing="recover", done=None, also=[destination],
                                          after=self._tell))

    def _steer(self, vm: str, verb: MigrationVerb) -> None:
        """Cancel or postcopy: checked, asked, made (the destination is read again too), told."""
        if self._refused(vm, verb.control):
            return
        question = verb.question(vm)
        self.ask(question.title, question.text, yes=question.yes, no=question.no,
                 then=lambda: self.change(vm, verb.run, doing=verb.control.value, done=None,
                                          also=self._destination_of(vm), after=self._tell))

    def _tell(self, outcome: str) -> None:
        self.stack.notify(outcome, markup=False)

    def take_advice(self, vm: str, name: str) -> None:
        """Take the action the prediction advises on ``name`` (a parameter), after a confirmation."""
        if self._refused(vm, advice.CONTROL):  # as for cancel: a migration of this VM runs, from here
            return
        state = self.states[vm]
        action = advised(state.prediction().actions, name)
        if action is None:
            self.stack.notify(self._not_advised(vm, name) or f"{vm}: no advice on {name}.", severity="warning")
            return
        change = advice.old_to_new(action, state.parameters, state.capabilities)
        question = advice.question(vm, action, state.parameters, state.capabilities)

        def taking() -> None:
            state.follow(action)  # its promise, set against the outcome when the migration ends
            self.change(vm, advice.step(action), doing=f"advice: {change}", done=advice.outcome(vm, change))

        self.ask(question.title, question.text, yes=question.yes, then=taking)

    def _not_advised(self, vm: str, name: str) -> str | None:
        """Why the prediction offers no change of ``name`` on ``vm`` now (None: it does)."""
        state = self.states[vm]
        if advised(state.prediction().actions, name) is not None:
            return None
        missing = state.parameters and name not in state.parameters  # QEMU 7.2 has no avail-switchover-bandwidth
        return f"{vm}: its QEMU ({state.version or '?'}) has no {name}." if missing else \
            f"{vm}: the prediction advises no change of {name} now."

    def _migrate_confirmed(self, request: MigrationRequest | None) -> None:
        if request is None:
            return
        destination = request.destination

        async def start(source: VMSession) -> str:
            policy = policy_for(request.policy, self.read_only)
            target = self.fleet.session(destination) if destination else (request.host or str(request.uri))
            uri = await migrate.start(source, target, request.plan)
            if destination:
                self.destinations[request.source] = destination
            if policy is not None:
                self.fleet.apply_policy(request.source, policy)
            return uri

        async def run() -> None:
            uri = await self.fleet.change(request.source, start, also=[destination] if destination else ())
            self.mark(request.source, f"migrate → {request.target}")
            self.stack.notify(migrate.outcome(request.source, request.target, uri), markup=False)

        self.stack.run_worker(run, name=f"migrate {request.source}", group=f"control-{request.source}",
                              exit_on_error=False)

    def _destination_of(self, vm: str) -> list[str]:
        return [name for name in (self.destinations.get(vm),) if name in self.states]

    def _unknown(self, vm: str) -> bool:
        if vm in self.states:
            return False
        self.stack.notify(f"No VM named {vm!r}.", severity="error")
        return True

    # -- the two steps every change is made of --------------------------------

    def ask(self, title: str, question: str, *, then: Callable[[], object], yes: str = "Yes", no: str = "No") -> None:
        """Ask ``question`` first; ``then`` only on yes."""
        def answered(agreed: bool | None) -> None:
            if agreed:
                then()

        self.stack.push_screen(ConfirmDialog(title, question, yes=yes, no=no), answered)

    def change(self, vm: str, make: Callable[[VMSession], Awaitable[Result]], *, doing: str, done: str | None,
               also: Iterable[str] = (), mark: bool = True, group: str | None = None, exclusive: bool = False,
               after: Callable[[Result], object] | None = None) -> None:
        """Make a change to ``vm`` through the fleet, in a worker of the App (it outlives the screen).

        Once the fleet read ``vm`` (and ``also``) again: a mark ``doing`` on its charts, the
        notification ``done``, then ``after`` with what ``make`` returned. A failure is the
        App's to show, in QEMU's words, titled ``doing``. ``exclusive`` cancels the others of
        its ``group``: only for changes of nothing (a refresh), since a change cancelled
        between two of its commands would be half made."""
        async def run() -> None:
            result = await self.fleet.change(vm, make, also=also)
            if mark:
                self.mark(vm, doing)
            if done:
                self.stack.notify(done, markup=False)
            if after is not None:
                after(result)

        # Workers get the coroutine function, not a coroutine: an exclusive
        # worker replaced before it starts must not leave one never awaited.
        self.stack.run_worker(run, name=f"{doing} {vm}", group=group or f"control-{vm}", exclusive=exclusive,
                              exit_on_error=False)

    def mark(self, vm: str, text: str, at: float | None = None) -> ChartMark:
        """Mark a moment on every chart of ``vm`` (a vertical line labelled ``text``)."""
        added = self.marks.add(vm, text, at)
        self.feed.marks_changed(vm)
        return added
