"""What every migration chart shares: its VM, the window, the marks, the colours.

Each chart is a textual-plotext ``PlotextPlot`` drawing on its own figure
(``self.plt``), never plotext's global one. A chart redraws when its
:attr:`MigrationChart.sample` (bound from the VM screen), window or marks
change: it clears the figure's data, plots the window's samples and calls
``refresh()``; plotext builds the picture only when Textual paints it, so a
chart on a hidden tab costs almost nothing.

Time runs along x in seconds before the newest sample (0 is "now" in the
samples' own clock), which keeps a picture of recorded samples the same
whenever it is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.color import Color
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.widgets.marks import ChartMark

MIB = 1024 * 1024

ANSI_NAMES = {"primary": "blue", "secondary": "cyan", "accent": "magenta", "warning": "yellow",
              "error": "red", "success": "green", "foreground": "default"}


def migrating(samples: Sequence[Sample]) -> list[Sample]:
    """The samples taken while a migration ran, and the one that saw it end.

    The figures of a finished migration stay frozen in every later
    ``query-migrate`` answer (the last throughput, forever): drawn, they
    would look like a migration still sending."""
    kept: list[Sample] = []
    was_active = False
    for sample in samples:
        if sample.info.ram is not None and (sample.active or was_active):
            kept.append(sample)
        was_active = sample.active
    return kept


def thin(samples: Sequence[Sample], most: int) -> list[Sample]:
    """At most ``most`` samples, evenly spread, the newest always kept."""
    if len(samples) <= most or most < 2:
        return list(samples)
    step = (len(samples) - 1) / (most - 1)
    return [samples[round(i * step)] for i in range(most)]


class MigrationChart(PlotextPlot):
    """Base of the VM screen's charts; subclasses implement :meth:`draw`."""

    DEFAULT_CSS = """
    MigrationChart {
        height: 1fr;
        min-height: 8;
        background: $surface;
    }
    """

    TITLE = ""

    sample: reactive[Sample | None] = reactive(None)
    """The VM's newest sample; a new one redraws the chart."""
    window: reactive[float | None] = reactive(60.0)
    """Seconds of history shown (None: all the VM's history)."""
    marks_version: reactive[int] = reactive(0)
    """Bumped by the screen when the VM's marks change."""
    settings_version: reactive[int] = reactive(0)
    """Bumped by the screen when the VM's parameters were read again (the downtime limit)."""

    def __init__(self, state: VMState, marks: Callable[[], list[ChartMark]], *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.state = state
        self.marks = marks

    def on_mount(self) -> None:
        # PlotextPlot's own on_mount runs too (Textual calls every class's handler).
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())
        self.replot()

    def watch_sample(self) -> None:
        self.replot()

    def watch_window(self) -> None:
        self.replot()

    def watch_marks_version(self) -> None:
        self.replot()

    def watch_settings_version(self) -> None:
        self.replot()

    def colour(self, name: str) -> str | tuple[int, int, int]:
        """A theme colour as plotext takes it: a name on ANSI themes, else RGB."""
        if self.app.current_theme.ansi:
            return ANSI_NAMES.get(name, "default")
        try:
            return Color.parse(self.app.theme_variables[name]).rgb
        except Exception:  # a theme without that variable: the terminal's default
            return "default"

    def replot(self) -> None:
        if not self.is_mounted:
            return
        plt = self.plt
        plt.clear_data()
        plt.title(self.TITLE)
        history = self.state.tracker.history.window(self.window)
        samples = thin(migrating(history), max(16, self.size.width * 2))
        if not samples:
            plt.title(f"{self.TITLE} (no migration in this window)")
            plt.xlim(-(self.window or 60), 0)
            plt.ylim(0, 1)
            self.refresh()
            return
        now = history[-1].at
        x = [s.at - now for s in samples]
        top = self.draw(x, samples)
        self._draw_marks(now, x[0], top)
        plt.xlim(min(x[0], -1.0), 0)
        self.refresh()

    def _draw_marks(self, now: float, first: float, top: float) -> None:
        for mark in self.marks():
            at = mark.at - now
            if first <= at <= 0:
                self.plt.vline(at, self.colour("warning"))
                self.plt.text(mark.text, at, top, color=self.colour("warning"), alignment="left")

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        """Plot the series; return the y value where mark labels go (the top)."""
        raise NotImplementedError
