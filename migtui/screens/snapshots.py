"""A VM's internal snapshots and its jobs; save, load and delete as tracked jobs.

Jobs run through the controls, in App workers (they outlive this screen:
leaving it does not stop following a job), as changes of the fleet (the VM
is read again when one ends). QMP is silent while QEMU saves or loads; the
fleet shows the VM busy meanwhile and this screen's list waits for QEMU like
any query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static
from textual.worker import Worker

from migtui.model.snapshots import Snapshot, tags_of
from migtui.model.vm_state import VMState
from migtui.ops.snapshot import JobVerb, SnapshotVerb, ended, job_done, left_paused, question, refusal
from migtui.params.forms import forms_of
from migtui.qapi.choices import with_choices
from migtui.qapi.fields import field_specs
from migtui.qmp import snapshots
from migtui.qmp.session import VMSession
from migtui.qmp.snapshots import JobOutcome, SnapshotRequest
from migtui.qmp.updates import Aspect
from migtui.screens.controls_api import Controls
from migtui.screens.snapshot_dialog import SnapshotDialog
from migtui.screens.worker_errors import ShowsWorkerErrors
from migtui.units import human_bytes
from migtui.widgets.feed import FleetFeed, StateUpdated
from migtui.widgets.job_panel import JobPanel

MUTATING = (*SnapshotVerb, "dismiss_job", "cancel_job", JobVerb.RESUME)


class SnapshotsScreen(ShowsWorkerErrors, Screen[None]):
    """Snapshots on the VM's disks, and every job of the VM as it moves."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="snapshots.back", tooltip="Back"),
        Binding("s", "save", "Save", id="snapshots.save", tooltip="Save the VM's state and disks as a new snapshot"),
        Binding("l", "load", "Load", id="snapshots.load",
                tooltip="Replace the VM's running state with the selected snapshot (asks first)"),
        Binding("d", "delete", "Delete", id="snapshots.delete", tooltip="Delete the selected snapshot (asks first)"),
        Binding("x", "dismiss_job", "Dismiss", id="snapshots.dismiss",
                tooltip="Dismiss the selected concluded job"),
        Binding("k", "cancel_job", "Cancel", id="snapshots.cancel", tooltip="Cancel the selected running job"),
        Binding("u", "resume", "Resume", id="snapshots.resume",
                tooltip="Let a VM paused by a failed load run again (cont)"),
        Binding("r", "reload", "Reload", id="snapshots.reload", show=False, tooltip="List the snapshots again"),
        # Tried when a key's own binding cannot act now (Textual then takes the next of that key):
        # a greyed-out key says why instead of doing nothing.
        *(Binding(key, f"explain('{action}')", show=False, system=True)
          for key, action in (("s", "save"), ("l", "load"), ("d", "delete"), ("x", "dismiss_job"),
                              ("k", "cancel_job"), ("u", "resume"))),
    ]

    DEFAULT_CSS = """
    SnapshotsScreen #snapshots {
        height: 1fr;
        background: $surface;
    }
    SnapshotsScreen .heading {
        text-style: bold;
        padding: 0 1;
        background: $boost;
        width: 1fr;
    }
    SnapshotsScreen #snapshots-title.-paused {
        color: $warning;
        text-style: bold;
    }
    """

    def __init__(self, state: VMState, feed: FleetFeed, controls: Controls) -> None:
        super().__init__()
        self.state = state
        self.vm = state.name
        self.feed = feed
        self.controls = controls
        self.snapshots: list[Snapshot] = []
        self.nodes: list[str] = []
        self.listing: Worker[None] | None = None
        """The worker reading the VM's snapshots (its failure is shown by ShowsWorkerErrors)."""
        self.opening: Worker[None] | None = None
        """The worker opening a snapshot form."""
        self.listed = False
        """The snapshots and nodes were read at least once (until then a form would offer nothing)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="snapshots-title")
        yield Label("Snapshots", classes="heading")
        yield DataTable(id="snapshots", cursor_type="row", zebra_stripes=True)
        yield Label("Jobs", classes="heading")
        yield JobPanel(self.state, self.feed, id="jobs")
        # 80 columns hold every key of this screen and the app's, q Quit last (short labels: the
        # tooltips name the job or the VM each acts on); Ctrl+P is on the help screen.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"{self.vm} · snapshots"
        table = self.query_one("#snapshots", DataTable)
        # 79 cells in all: whole at 80 columns.
        for name, width in (("node", 8), ("tag", 16), ("id", 4), ("date", 19), ("VM state", 10), ("VM clock", 10)):
            table.add_column(name, key=name, width=width)
        self.feed.add(self, self.vm)
        self._show_title()
        self.action_reload()

    def on_unmount(self) -> None:
        self.feed.remove(self)

    # -- what is shown ------------------------------------------------------

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.aspect in (Aspect.RUN_STATE, Aspect.LINK, Aspect.BUSY):
            self._show_title()
        if message.aspect is Aspect.JOBS and not self.state.jobs.running:
            self.action_reload()  # a job ended (ours or another client's): the list may have changed
        self.refresh_bindings()

    def _show_title(self) -> None:
        state = self.state
        title = self.query_one("#snapshots-title", Static)
        paused = state.run_state == "restore-vm"
        parts = [self.vm, state.run_state or state.link]
        if state.busy:
            parts.append(f"busy: QEMU has not answered for {state.busy_for:.0f} s (saving or loading)")
        if paused:
            parts.append("paused after a failed load: u resumes it")
        title.update(Text(" · ".join(parts)))
        title.set_class(paused, "-paused")

    def action_reload(self) -> None:
        async def load() -> None:
            session = self.controls.session(self.vm)
            self.snapshots = await snapshots.list_snapshots(session)
            self.nodes = await snapshots.snapshot_nodes(session)
            self.listed = True
            self._fill()

        self.listing = self.run_worker(load, name=f"Listing the snapshots of {self.vm}", group="snapshot-list",
                                       exclusive=True, exit_on_error=False)

    def _fill(self) -> None:
        table = self.query_one("#snapshots", DataTable)
        table.clear()
        for snap in self.snapshots:
            table.add_row(snap.node, snap.tag, snap.id, f"{snap.date:%Y-%m-%d %H:%M:%S}",
                          human_bytes(snap.vm_state_size), f"{snap.vm_clock:.1f} s", key=f"{snap.node}/{snap.id}")
        self.refresh_bindings()

    @property
    def selected(self) -> Snapshot | None:
        table = self.query_one("#snapshots", DataTable)
        if not self.snapshots or table.cursor_row >= len(self.snapshots):
            return None
        return self.snapshots[table.cursor_row]

    @property
    def selected_job(self) -> str | None:
        return self.query_one(JobPanel).selected_job

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING and self.controls.read_only:
            return False
        return None if self._why_not(action) else True

    def _why_not(self, action: str) -> str | None:
        """Why ``action`` cannot act now, in a line (None: it can)."""
        job = self.state.jobs.jobs.get(self.selected_job or "")
        if action in ("save", "load", "delete"):
            # What QEMU would refuse anyway, said before a form is filled in for nothing.
            latest = self.state.latest
            if self.state.run_state == "postmigrate":
                return (f"{self.vm} migrated away: its disks are the destination's now (QEMU refuses: the "
                        "device does not support snapshots).")
            if latest is not None and latest.active:
                return f"A migration of {self.vm} runs: QEMU takes no snapshot job during one."
        if action in ("load", "delete") and self.selected is None:
            return "No snapshot selected."
        if action in ("dismiss_job", "cancel_job") and job is None:
            return "No job selected."
        if action == "dismiss_job" and job is not None and job.status != "concluded":
            return f"Job {job.id} is {job.status}: only a concluded job is dismissed (k cancels a running one)."
        if action == "cancel_job" and job is not None and job.done:
            return f"Job {job.id} is {job.status}: it runs no more (x dismisses it)."
        if action == "resume" and self.state.run_state != "restore-vm":
            return (f"{self.vm} is {self.state.run_state or 'not known'}: u resumes a VM a failed load left "
                    "paused (restore-vm).")
        return None

    def action_explain(self, action: str) -> None:
        if (reason := self._why_not(action)) is not None:
            self.notify(reason, severity="warning", markup=False)

    # -- actions ------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_save(self) -> None:
        self._ask("save", "")

    def action_load(self) -> None:
        if self.selected:
            self._ask("load", self.selected.tag)

    def action_delete(self) -> None:
        if self.selected:
            self._ask("delete", self.selected.tag)

    def _ask(self, verb: str, tag: str) -> None:
        if not self.listed:
            self.notify(f"{self.vm}: its disks are still being read; try again in a moment.", markup=False)
            return
        if not self.nodes and (problem := refusal(self.vm, SnapshotVerb(verb), tag, self.snapshots, self.nodes)):
            self.notify(problem, severity="warning", timeout=10, markup=False)
            return

        async def open_form() -> None:
            forms = await forms_of(self.controls.session(self.vm))
            # The command's members from the VM's schema, the node members limited to its writable nodes,
            # and a load's or delete's tag to the VM's snapshots (QEMU pauses the guest before it looks).
            choices: dict[str, list[str]] = {"vmstate": self.nodes, "devices": self.nodes}
            if verb != "save":
                choices["tag"] = tags_of(self.snapshots)
            specs = with_choices(field_specs(forms.schema, f"snapshot-{verb}"), choices)
            values = snapshots.form_values(verb, tag, self.nodes)
            self.app.push_screen(SnapshotDialog(self.vm, verb, specs, values), self._confirm)

        self.opening = self.run_worker(open_form, name=f"Opening the snapshot-{verb} form", group="snapshot-form",
                                       exclusive=True, exit_on_error=False)

    def _confirm(self, request: SnapshotRequest | None) -> None:
        if request is None:
            return
        verb = SnapshotVerb(request.verb)
        if problem := refusal(self.vm, verb, request.tag, self.snapshots, self.nodes):
            self.notify(problem, severity="error", markup=False)
            return
        asked = question(self.vm, verb, request.tag)
        if asked is None:
            self._start(request)
            return
        self.controls.ask(asked.title, asked.text, yes=asked.yes, then=partial(self._start, request))

    def _start(self, request: SnapshotRequest) -> None:
        controls, vm = self.controls, self.vm

        async def follow(session: VMSession) -> JobOutcome:
            # Through the fleet, so the VM's jobs are read again before the job is dismissed:
            # the panel shows how it ended, its error too, whichever poll came first.
            outcome = await controls.change_now(vm, partial(snapshots.run_job, request=request, dismiss=False))
            # A failure's reason is recorded (panel, notification): its job is not left behind.
            if not outcome.ok or controls.auto_dismiss_jobs:
                await snapshots.dismiss(session, request.job_id)
            return outcome

        controls.change(vm, follow, doing=f"snapshot-{request.verb}", done=None, mark=False,
                        group=f"job-{vm}-{request.job_id}",
                        after=lambda outcome: _tell(controls, vm, request, outcome))

    def action_dismiss_job(self) -> None:
        if job_id := self.selected_job:
            self._control(partial(snapshots.dismiss, job_id=job_id), f"job-dismiss {job_id}",
                          job_done(self.vm, JobVerb.DISMISS, job_id))

    def action_cancel_job(self) -> None:
        if job_id := self.selected_job:
            self._control(partial(snapshots.cancel, job_id=job_id), f"job-cancel {job_id}",
                          job_done(self.vm, JobVerb.CANCEL, job_id))

    def action_resume(self) -> None:
        self._control(snapshots.resume, "resume", job_done(self.vm, JobVerb.RESUME))

    def _control(self, make: Callable[[VMSession], Awaitable[None]], doing: str, done: str) -> None:
        self.controls.change(self.vm, make, doing=doing, done=done, mark=False, group=f"job-control-{self.vm}")


def _tell(controls: Controls, vm: str, request: SnapshotRequest, outcome: JobOutcome) -> None:
    notify = controls.stack.notify
    said = ended(vm, request, outcome)
    paused = left_paused(vm, outcome)
    if outcome.ok or paused is None:
        notify(said, severity="information" if outcome.ok else "error", timeout=None if outcome.ok else 20,
               markup=False)
        return
    # What failed, that the guest is paused, and the way out, together.
    controls.ask(f"{vm} is paused", f"{said}; {paused}. Let it run again from where it was?", yes="Resume",
                 no="Leave it paused",
                 then=lambda: controls.change(vm, snapshots.resume, doing="resume", done=None, mark=False,
                                              group=f"job-control-{vm}"))
