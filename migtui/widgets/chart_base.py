"""What every migration chart shares: its VM, the window, the marks, the colours.

Each chart is a textual-plotext ``PlotextPlot`` drawing on its own figure
(``self.plt``), never plotext's global one. A chart redraws when its
:attr:`MigrationChart.sample` (bound from the VM screen), window or marks
change: it clears the figure's data, plots the window's samples and calls
``refresh()``; plotext builds the picture only when Textual paints it, so a
chart on a hidden tab costs almost nothing.

Time runs along x in seconds before the newest sample (0 is "now" in the
samples' own clock, labelled so, the other ticks "-30s", "-5m"), which keeps
a picture of recorded samples the same whenever it is drawn. The top rows of
a chart are kept free of data: one a legend entry, then one for the marks'
labels, so neither hides a series nor is hidden by one.
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
PLOT_FRAME_ROWS = 4
"""Rows of a chart that are not its plot area: the title, the frame's top and bottom, the x labels."""
Y_LABELS_COLUMNS = 8
"""About the columns the y axis's labels and the frame take (the rest is the plot's width)."""
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)

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
        self.now = 0.0
        """The newest sample's time (the samples' clock): x is seconds before it."""
        self._legend_rows = 0

    def on_mount(self) -> None:
        # PlotextPlot's own on_mount runs too (Textual calls every class's handler).
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())
        self.replot()

    def watch_sample(self) -> None:
        self.replot()

    def on_resize(self) -> None:
        self.replot()  # the rows kept free for the legend and labels depend on the height

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

    # -- drawing ------------------------------------------------------------

    @property
    def plot_rows(self) -> int:
        """Rows of the plot area: the widget's height less the title, the frame and the x labels."""
        return max(self.size.height - PLOT_FRAME_ROWS, 3)

    def series(self, x: Sequence[float], y: Sequence[float], label: str | None = None, marker: str = "hd",
               colour: str = "primary") -> None:
        """Plot one series; a labelled one takes a legend row (kept free of data, see :meth:`replot`)."""
        if label:
            self._legend_rows += 1
        self.plt.plot(list(x), list(y), label=label, marker=marker, color=self.colour(colour))

    def replot(self) -> None:
        if not self.is_mounted:
            return
        plt = self.plt
        plt.clear_data()
        plt.title(self.TITLE)
        history = self.state.tracker.history.window(self.window)
        samples = thin(migrating(history), max(16, self.size.width * 2))
        span = float(self.window or 60)
        if samples:
            self.now = now = history[-1].at
            x = [s.at - now for s in samples]
            span = max(-x[0], 1.0)
            self._legend_rows = 0
            top = self.draw(x, samples)
            marks = [mark for mark in self.marks() if -span <= mark.at - now <= 0]
            # The legend's rows, then a row for the marks' labels, then the data: none covers another.
            headroom = self._legend_rows + (1 if marks else 0)
            ceiling = top * 1.05 * self.plot_rows / max(self.plot_rows - headroom, 1)
            plt.ylim(0, ceiling)
            self._draw_marks(marks, now, span, ceiling)
        else:
            plt.title(f"{self.TITLE} (no migration in this window)")
            plt.ylim(0, 1)
        plt.xlim(-span, 0)
        ticks = time_ticks(span)
        plt.xticks([at for at, _ in ticks], [label for _, label in ticks])
        self.refresh()

    def _draw_marks(self, marks: list[ChartMark], now: float, span: float, ceiling: float) -> None:
        """A vertical line per mark, its label in the row under the legend, cut where the next mark's starts."""
        row = ceiling / self.plot_rows
        label_y = ceiling - (self._legend_rows + 0.5) * row
        columns_per_second = max(self.size.width - Y_LABELS_COLUMNS, 1) / span
        ordered = sorted(marks, key=lambda mark: mark.at)
        taken = -span  # where the labels drawn so far end (seconds)
        for mark, following in zip(ordered, [*ordered[1:], None], strict=False):
            at = mark.at - now
            # A line from the bottom up to the labels' row: a vline would cross the legend.
            self.plt.plot([at, at], [0.0, label_y], marker="│", color=self.colour("warning"))
            right = int(((following.at - now if following else 0.0) - at) * columns_per_second) - 1
            left = int((at - taken) * columns_per_second) - 1
            if following is None and len(mark.text) > right and left > right:
                # The newest mark near "now": its label ends at its line instead of being cut short.
                text = _cut(mark.text, left)
                if text:
                    self.plt.text(text, at, label_y, color=self.colour("warning"), alignment="right")
                continue
            text = _cut(mark.text, right)
            if text:
                self.plt.text(text, at, label_y, color=self.colour("warning"), alignment="left")
                taken = at + (len(text) + 1) / columns_per_second

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        """Plot the series (with :meth:`series`); return the largest value drawn."""
        raise NotImplementedError


def _cut(text: str, room: int) -> str:
    """``text`` in ``room`` columns: whole, cut with an ellipsis, or nothing where not even that fits."""
    return text if len(text) <= room else text[:room - 1] + "…" if room >= 3 else ""


def time_ticks(span: float) -> list[tuple[float, str]]:
    """Ticks for an x axis of seconds before now: at most 5, round, labelled with their unit ("-30s", "now")."""
    step = next((s for s in TICK_STEPS if span / s <= 4), TICK_STEPS[-1])
    ticks = [-k * step for k in range(int(span // step), 0, -1)]

    def label(seconds: float) -> str:
        ago = -seconds
        return f"-{ago / 3600:g}h" if step >= 3600 else f"-{ago / 60:g}m" if step >= 60 else f"-{ago:g}s"

    return [(float(at), label(at)) for at in ticks] + [(0.0, "now")]
