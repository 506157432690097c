"""One row of the fleet table: what a VM looks like, cell by cell.

A :class:`FleetRow` keeps the few recent samples the row needs (the trend
sparkline and the outlook), so a tick never walks the VM's whole history,
and turns the VM's state into cell texts plus the values the table sorts
by.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from migtui.fleet_columns import CELL_PADDING, COLUMNS, TREND_WIDTH
from migtui.model.convergence import Verdict
from migtui.model.link import LinkState
from migtui.model.sample import Sample
from migtui.model.status import FINAL_STATES, TROUBLE_STATES, MigrationStatus
from migtui.model.vm_state import VMState
from migtui.units import compact_bytes, compact_ms, compact_rate, percent_done
from migtui.widgets.cell_styles import CellPalette
from migtui.widgets.figures import clock, sparkline
from migtui.widgets.outlook import Outlook, outlook_of

RECENT = 120
"""Samples a row keeps: a minute at the fast poll rate."""

FIGURES = ("status", "pass", "progress", "remaining", "dirty", "sent", "downtime", "throttle", "trend")
"""Cells that come from the latest sample: dimmed once they are only last seen."""
SHORT_STATUS = {"postcopy-active": "postcopy", "pre-switchover": "pre-switch", "postcopy-paused": "pc-paused",
                "postcopy-recover": "pc-recover", "wait-unplug": "unplug"}


LOOPING = "loop"
"""The "done" cell of a migration that will not converge: it sends the same memory again every pass."""

HOST_COLUMN = "host"
"""Shown only when some VM of the fleet is on an inventory host (a fleet of this machine has none)."""


SHORT_RUN = {"postmigrate": "migrated", "finish-migrate": "finishing", "restore-vm": "restoring",
             "guest-panicked": "panicked", "internal-error": "int-error"}
"""Run states longer than the run column, in a word of its width (the brief and the VM screen say QEMU's)."""


def column_widths(name_width: int, host_width: int = 0) -> dict[str, int]:
    """Each column's width; the name's and the host's fit the fleet's names (``host_width`` 0: no host column)."""
    widths = {key: width for key, _, width in COLUMNS if key != HOST_COLUMN or host_width}
    widths["name"] = name_width
    if host_width:
        widths[HOST_COLUMN] = host_width
    return widths


def columns_that_fit(width: int, name_width: int, host_width: int = 0) -> tuple[str, ...]:
    """The keys of the columns shown in ``width`` cells: whole columns in the order of COLUMNS,
    never one cut (the name always, however narrow)."""
    shown: list[str] = []
    used = 0
    for key, column_width in column_widths(name_width, host_width).items():
        needed = column_width + 2 * CELL_PADDING
        if shown and used + needed > width:
            break
        shown.append(key)
        used += needed
    return tuple(shown)


@dataclass
class FleetRow:
    vm: str
    recent: deque[Sample] = field(default_factory=lambda: deque(maxlen=RECENT))
    event_status: tuple[float, str] | None = None
    """(time, status) of the last MIGRATION event, shown until a later sample."""
    cells: dict[str, Text] = field(default_factory=dict)
    sort_values: dict[str, Any] = field(default_factory=dict)
    search_text: str = ""
    outlook: Outlook | None = None

    def add_sample(self, sample: Sample) -> None:
        if self.recent and sample.at < self.recent[-1].at:
            return
        if self.recent and self.recent[-1].status in FINAL_STATES and sample.active:
            self.recent.clear()  # a new migration: its trend starts afresh
        self.recent.append(sample)

    def add_status_event(self, at: float, status: str) -> None:
        self.event_status = (at, status)

    def refresh(self, state: VMState, palette: CellPalette) -> dict[str, Text]:
        """Recompute every cell; returns those that changed."""
        sample = self.recent[-1] if self.recent else state.latest
        status = sample.status if sample and not sample.snapshot else "none"
        if self.event_status and (sample is None or self.event_status[0] > sample.at):
            status = self.event_status[1]
        prediction = state.prediction()
        if sample is not None and state.stale:
            # Down: the figures are last seen (at this time), and predict nothing.
            self.outlook = Outlook(clock(sample.wall), "muted", prediction)
        else:
            self.outlook = outlook_of(prediction)
            if sample is not None and sample.active and not state.migrating_out:
                self.outlook = Outlook("incoming", "muted", prediction)  # the source's row has the prediction
        # A snapshot job's figures (it runs on QEMU's migration code) are no migration's: none shown.
        figures = None if sample is None or sample.snapshot else sample
        info = figures.info if figures else None
        ram = info.ram if info else None
        active = figures is not None and figures.active
        p = palette

        link, link_style = _link(state, p)
        run = state.run_state or "?"
        cells = {
            "name": Text(self.vm, style=p.bad if state.link is LinkState.DISCONNECTED else p.plain),
            "host": Text(state.host or "-", style=p.bad if state.link_error and state.link_error.startswith("host ")
                         else (p.plain if state.host else p.muted)),
            "link": Text(link, style=link_style),
            "run": Text(SHORT_RUN.get(run, run),
                        style=p.muted if state.link is not LinkState.CONNECTED else _run_style(run, p)),
            "status": Text(SHORT_STATUS.get(status, status) if status != MigrationStatus.NONE else "-",
                           style=_status_style(status, p)),
            "pass": Text(str(figures.passes) if figures and ram else "-", justify="right"),
            "progress": _progress(figures, self.outlook.prediction.verdict, p),
            "remaining": Text(compact_bytes(ram.remaining) if ram and active else "-", justify="right"),
            "dirty": _dirty(figures, active, p),
            "sent": Text(compact_rate(figures.throughput) if figures and ram and active else "-", justify="right"),
            "downtime": _downtime(info, state, active, p),
            "outlook": Text(self.outlook.short, style=getattr(p, self.outlook.tone)),
            "throttle": Text(f"{info.cpu_throttle_percentage}%" if info and info.cpu_throttle_percentage else "-",
                             justify="right", style=p.warn if info and info.cpu_throttle_percentage else p.plain),
            "jobs": _jobs(state, p),
            "trend": Text(sparkline([s.remaining or 0 for s in self.recent if s.info.ram], TREND_WIDTH),
                          style=p.accent),
        }
        if state.stale:
            for key in FIGURES:
                cells[key] = Text(cells[key].plain, style=p.muted, justify=cells[key].justify)
        self.sort_values = {
            "name": self.vm,
            "link": link,
            "status": status,
            "progress": (figures.progress or 0.0) if figures else 0.0,
            "remaining": ram.remaining if ram and active else -1,
            "dirty": figures.dirty_rate if figures and active else -1.0,
            "sent": figures.throughput if figures and active else -1.0,
            "downtime": _downtime_ms(info, active),  # the figure the cell shows: expected, or had at the end
            "throttle": (info.cpu_throttle_percentage or 0) if info else 0,
        }
        # QEMU's words and the row's (postmigrate shows as 'migrated'): either finds it.
        self.search_text = " ".join((self.vm, state.group or "", state.host or "", link, run, SHORT_RUN.get(run, run),
                                     status, SHORT_STATUS.get(status, status), self.outlook.short)).lower()
        changed = {key: text for key, text in cells.items() if not _same(self.cells.get(key), text)}
        self.cells = cells
        return changed

    def matches(self, terms: list[str]) -> bool:
        return all(term in self.search_text for term in terms)


def _progress(sample: Sample | None, verdict: Verdict, p: CellPalette) -> Text:
    """The share sent, except that a migration that will not converge is never shown near done:
    it sends its working set again every pass, however close the saw-tooth dips to 0 ('loop')."""
    if verdict is Verdict.NOT_CONVERGING:
        return Text(LOOPING, justify="right", style=p.bad)
    if sample is None or sample.progress is None:
        return Text("-", justify="right")
    return Text(percent_done(sample.progress), justify="right")


def _dirty(sample: Sample | None, active: bool, p: CellPalette) -> Text:
    if sample is None or not active or sample.info.ram is None:
        return Text("-", justify="right")
    if not sample.dirty_rate_known:  # QEMU reads 0 until its second dirty sync
        return Text("meas.", justify="right", style=p.muted)
    return Text(compact_rate(sample.dirty_rate), justify="right")


def _link(state: VMState, p: CellPalette) -> tuple[str, Any]:
    if state.link is LinkState.CONNECTED:
        if state.busy:
            return "busy", p.warn
        return ("err", p.bad) if state.poll_error else ("up", p.good)
    if state.link is LinkState.BUSY:
        return "busy", p.warn
    if state.link is LinkState.CONNECTING:
        return "…", p.muted
    if state.link is LinkState.CLOSED:
        return "off", p.muted
    return "down", p.bad


def _run_style(run: str, p: CellPalette) -> Any:
    if run == "running":
        return p.plain
    if run in ("inmigrate", "postmigrate", "finish-migrate"):
        return p.accent
    if run in ("internal-error", "io-error", "guest-panicked", "shutdown"):
        return p.bad
    return p.warn


def _status_style(status: str, p: CellPalette) -> Any:
    if status == MigrationStatus.COMPLETED:
        return p.good
    if status in TROUBLE_STATES:
        return p.bad
    if status == MigrationStatus.NONE:
        return p.muted
    return p.accent


def _downtime_ms(info: Any, active: bool) -> int:
    """The downtime the row shows: expected while it migrates, the one it had after its end; -1 none."""
    if info is None:
        return -1
    shown = info.expected_downtime if active else info.downtime
    return -1 if shown is None else int(shown)


def _downtime(info: Any, state: VMState, active: bool, p: CellPalette) -> Text:
    if _downtime_ms(info, active) < 0:
        return Text("-", justify="right")
    if not active:
        return Text(compact_ms(info.downtime), justify="right", style=p.muted)
    limit = state.parameters.get("downtime-limit")
    over = limit is not None and info.expected_downtime > int(limit)
    return Text(compact_ms(info.expected_downtime), justify="right", style=p.warn if over else p.good)


def _jobs(state: VMState, p: CellPalette) -> Text:
    running = state.jobs.running
    if not running:
        return Text("-", style=p.muted)
    if len(running) == 1:
        return Text(running[0].type.replace("snapshot-", "")[:4], style=p.warn)
    return Text(f"{len(running)}", style=p.warn)


def _same(old: Text | None, new: Text) -> bool:
    """Text equality that also sees a change of style (Rich's == looks at the words only)."""
    return old is not None and (old.plain, old.style, old.justify) == (new.plain, new.style, new.justify)
