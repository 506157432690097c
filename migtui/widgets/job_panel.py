"""A VM's jobs as they move: type, status, time spent in each phase, error.

QEMU's ``query-jobs`` progress is always 1/1 for snapshot jobs, so the panel
shows where the time goes instead (``running 2.1 s · waiting 0.0 s``). Jobs
QEMU no longer lists stay at the bottom, marked dismissed, so a failure's
reason is still there after the job is gone. Rows are keyed by job id and
updated in place.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from migtui.model.jobs import DONE_STATES, Job
from migtui.model.vm_state import VMState
from migtui.qmp.updates import Aspect
from migtui.widgets.cell_styles import DEFAULT_PALETTE, CellPalette
from migtui.widgets.feed import FleetFeed, StateUpdated

COLUMNS = (("job", 20), ("type", 6), ("status", 9), ("error", None), ("seconds per phase", None))
"""In 80 columns: a failed job's error before the phases (the longer, and the lesser, of the two). The job
id as migtui suggests it (``delete-nightly-041500``, 21) is cut only for a tag longer than 7; the type
is the verb (``save``: every job here is a snapshot job)."""
SHORT_PHASES = {"created": "new", "running": "run", "waiting": "wait", "pending": "pend", "aborting": "abort"}


def phases_text(job: Job) -> str:
    """``new 0.0 · run 1.2``: each phase and the seconds it took, in the panel's width (concluded is the
    end, no phase: the status column says it)."""
    return " · ".join(f"{SHORT_PHASES.get(status, status)} {seconds:.1f}" for status, seconds in job.elapsed()
                      if status not in DONE_STATES)


class JobPanel(DataTable[Text]):
    """Every job of one VM, running ones ticking once a second."""

    DEFAULT_CSS = """
    JobPanel {
        height: auto;
        min-height: 5;
        max-height: 40%;
        background: $surface;
    }
    """

    def __init__(self, state: VMState, feed: FleetFeed, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.state = state
        self.feed = feed
        self._palette: CellPalette = DEFAULT_PALETTE

    def on_mount(self) -> None:
        for name, width in COLUMNS:
            self.add_column(name, key=name, width=width)
        self._palette = CellPalette.from_theme(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.feed.add(self, self.state.name)
        self.set_interval(1.0, self._tick)
        self.show_jobs()

    def on_unmount(self) -> None:
        self.feed.remove(self)

    @property
    def selected_job(self) -> str | None:
        """The job id under the cursor (None when there is none)."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key is None or key.startswith("done:") else key

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.aspect is Aspect.JOBS:
            self.show_jobs()

    def _on_theme_changed(self, _theme: object) -> None:
        self._palette = CellPalette.from_theme(self.app.theme_variables)
        self.show_jobs()

    def _tick(self) -> None:
        if self.state.jobs.running:
            self.show_jobs()

    def show_jobs(self) -> None:
        book = self.state.jobs
        wanted = {job.id: job for job in book.jobs.values()}
        wanted |= {f"done:{job.id}": job for job in book.finished if job.id not in book.jobs}
        for key in [row.key.value for row in self.ordered_rows]:
            if key is not None and key not in wanted:
                self.remove_row(key)
        for key, job in wanted.items():
            cells = self._cells(job, dismissed=key.startswith("done:"))
            if key in self.rows:
                for (name, _), cell in zip(COLUMNS, cells, strict=False):
                    self.update_cell(key, name, cell)
            else:
                self.add_row(*cells, key=key)

    def _cells(self, job: Job, dismissed: bool) -> list[Text]:
        p = self._palette
        status = "dismissed" if dismissed else job.status
        if job.error:
            style = p.bad
        elif status == "concluded":
            style = p.good
        elif status in ("aborting", "pending", "waiting"):
            style = p.warn
        else:
            style = p.muted if dismissed else p.plain
        return [Text(job.id), Text(job.type.removeprefix("snapshot-")), Text(status, style=style),
                Text(job.error or "", style=p.bad), Text(phases_text(job))]  # in the order of COLUMNS
