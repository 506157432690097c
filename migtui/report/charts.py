"""The report's charts as PNG images (matplotlib, no display needed)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from migtui.model.sample import Sample

MiB = 1 << 20


def charts(samples: Sequence[Sample], limit_ms: int | None) -> dict[str, str]:
    """Title -> base64 PNG: dirty rate against throughput, bytes left, expected downtime against the limit."""
    shown = [s for s in samples if s.info.ram is not None]
    if not shown:
        return {}
    first = shown[0].wall
    x = [s.wall - first for s in shown]
    found = {}
    figure, axes = _figure("Dirty rate and throughput", "MiB/s")
    axes.plot(x, [s.dirty_rate / MiB for s in shown], label="dirty rate")
    axes.plot(x, [s.throughput / MiB for s in shown], label="throughput")
    axes.legend()
    found["Dirty rate and throughput"] = _png(figure)
    figure, axes = _figure("Bytes left to send", "MiB")
    axes.plot(x, [(s.remaining or 0) / MiB for s in shown], color="tab:purple")
    found["Bytes left to send"] = _png(figure)
    figure, axes = _figure("Expected downtime and the limit", "ms")
    timed = [(t, s.info.expected_downtime) for t, s in zip(x, shown, strict=True)
             if s.info.expected_downtime is not None]
    if timed:
        axes.plot([t for t, _ in timed], [v for _, v in timed], label="expected downtime")
    if limit_ms is not None:
        axes.axhline(limit_ms, color="tab:red", linestyle="--", label=f"limit {limit_ms} ms")
    axes.legend()
    found["Expected downtime and the limit"] = _png(figure)
    return found


def _figure(title: str, unit: str) -> tuple[Figure, Axes]:
    figure, axes = plt.subplots(figsize=(8, 3), dpi=96)
    axes.set_title(title)
    axes.set_xlabel("seconds since the start")
    axes.set_ylabel(unit)
    axes.grid(alpha=0.3)
    return figure, axes


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
