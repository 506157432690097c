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
        measured = [(at, s.dirty_rate / MIB) for at, s in zip(x, samples, strict=False) if s.passes >= 2]
        dirty = [rate for _, rate in measured]
        self.plt.plot(x, sent, label="sent", marker="hd", color=self.colour("primary"))
        if measured:
            self.plt.plot([at for at, _ in measured], dirty, label="dirty", marker="•", color=self.colour("error"))
        top = max([*dirty, *sent, 1.0])
        self.plt.ylim(0, top * 1.1)
        return top * 1.05


class RemainingChart(MigrationChart):
    TITLE = "left to send, MiB"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        left = [(s.remaining or 0) / MIB for s in samples]
        self.plt.plot(x, left, marker="hd", color=self.colour("accent"))
        top = max([*left, 1.0])
        self.plt.ylim(0, top * 1.1)
        return top * 1.05


class DowntimeChart(MigrationChart):
    TITLE = "expected downtime vs limit, ms"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        expected = [float(s.info.expected_downtime or 0) for s in samples]
        self.plt.plot(x, expected, label="expected", marker="hd", color=self.colour("primary"))
        top = max([*expected, 1.0])
        limit = self.state.parameters.get("downtime-limit")
        if limit is not None:
            self.plt.hline(float(limit), self.colour("error"))
            self.plt.title(f"{self.TITLE} (limit {limit} ms: ─)")
            top = max(top, float(limit))
        self.plt.ylim(0, top * 1.1)
        return top * 1.05


class ThrottleChart(MigrationChart):
    TITLE = "CPU throttle, %"

    def draw(self, x: list[float], samples: list[Sample]) -> float:
        throttle = [float(s.info.cpu_throttle_percentage or 0) for s in samples]
        self.plt.plot(x, throttle, marker="hd", color=self.colour("warning"))
        self.plt.ylim(0, 100)
        if not self.state.capabilities.get("auto-converge"):
            self.plt.title(f"{self.TITLE} (auto-converge off)")
        return 95.0
