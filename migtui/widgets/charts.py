"""The four charts of the VM screen.

* :class:`RateChart`: dirty rate against throughput, the picture that says
  whether a migration converges (dirty below sent: each pass is shorter);
* :class:`RemainingChart`: bytes left to send, the saw-tooth of the passes;
* :class:`DowntimeChart`: QEMU's expected downtime against the downtime limit
  (the migration switches over once the first is under the second);
* :class:`ThrottleChart`: how hard auto-converge slows the guest's vCPUs.

Two series on one chart differ in marker as well as colour, so they stay
apart on a monochrome terminal (NO_COLOR).
"""

from __future__ import annotations

from migtui.model.sample import Sample
from migtui.widgets.chart_base import MIB, MigrationChart


class RateChart(MigrationChart):
    TITLE = "dirty rate vs sent, MiB/s"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        sent = [s.throughput / MIB for s in samples]
        # QEMU measures the dirty rate at the second dirty sync: before, its 0 means "unknown".
        measured = [(at, s.dirty_rate / MIB, s.throughput / MIB) for at, s in zip(x, samples, strict=True)
                    if s.passes >= 2]
        top = max([*(rate for _, rate, _ in measured), *sent, 1.0])
        # Where the two meet within half a row (a guest that dirties all QEMU sends), one would hide
        # the other: those points are a series of their own.
        close = top / (self.plot_rows * 2)
        apart = [(at, dirty) for at, dirty, sending in measured if abs(dirty - sending) > close]
        level = [(at, sending) for at, dirty, sending in measured if abs(dirty - sending) <= close]
        self.series(x, sent, "sent", colour="primary")
        if apart:
            self.series([at for at, _ in apart], [rate for _, rate in apart], "dirty", marker="•", colour="error")
        if level:
            self.series([at for at, _ in level], [rate for _, rate in level], "dirty = sent", marker="◆",
                        colour="warning")
        return top


class RemainingChart(MigrationChart):
    TITLE = "left to send, MiB"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        left = [(s.remaining or 0) / MIB for s in samples]
        self.series(x, left, colour="accent")
        return max([*left, 1.0])


class DowntimeChart(MigrationChart):
    TITLE = "expected downtime vs limit, ms"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        expected = [float(s.info.expected_downtime or 0) for s in samples]
        self.series(x, expected, "expected", colour="primary")
        # The limit as it was at each moment (a step where it was changed), not today's across the past.
        steps = self.state.limit_steps(samples[0].at, self.now)
        at_x: list[float] = []
        limits: list[float] = []
        for (start, limit), (end, _) in zip(steps, [*steps[1:], (self.now, None)], strict=False):
            at_x += [start - self.now, end - self.now]
            limits += [float(limit), float(limit)]
        if limits:
            self.series(at_x, limits, "limit", marker="━", colour="error")
        return max([*expected, *limits, 1.0])


class ThrottleChart(MigrationChart):
    TITLE = "CPU throttle, %"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        throttle = [float(s.info.cpu_throttle_percentage or 0) for s in samples]
        self.series(x, throttle, colour="warning")
        if not self.state.capabilities.get("auto-converge"):
            self.plt.title("throttle, % (auto-converge off)")  # short: plotext drops a title wider than the chart
        return 100.0
