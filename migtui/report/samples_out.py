"""A migration's samples as CSV or JSON lines, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from migtui.model.sample import Sample
from migtui.report.build import iso

CSV_COLUMNS = ("time", "vm", "status", "pass", "progress", "remaining_bytes", "transferred_bytes", "total_bytes",
               "dirty_rate_bytes_s", "throughput_bytes_s", "expected_downtime_ms", "throttle_percent",
               "total_time_ms", "downtime_ms")


def samples_csv(samples: Sequence[Sample]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in samples:
        info, ram = s.info, s.info.ram
        writer.writerow([iso(s.wall), s.vm, s.status, s.passes, "" if s.progress is None else round(s.progress, 4),
                         ram.remaining if ram else "", ram.transferred if ram else "", ram.total if ram else "",
                         round(s.dirty_rate), round(s.throughput),
                         _blank(info.expected_downtime), _blank(info.cpu_throttle_percentage),
                         _blank(info.total_time), _blank(info.downtime)])
    return out.getvalue()


def samples_jsonl(samples: Sequence[Sample]) -> str:
    """One ``{"vm", "time", "sample"}`` object a line, as ``migtui watch --json`` prints them."""
    return "".join(json.dumps({"vm": s.vm, "time": iso(s.wall), "sample": s.info.to_json()}) + "\n"
                   for s in samples)


def _blank(value: object) -> object:
    return "" if value is None else value


def export_samples(vm: str, samples: Sequence[Sample], directory: Path) -> tuple[Path, Path]:
    """Write ``samples`` as ``migtui-VM-TIME.csv`` and ``.jsonl`` into ``directory``."""
    stem = directory / f"migtui-{vm}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    paths = stem.with_suffix(".csv"), stem.with_suffix(".jsonl")
    paths[0].write_text(samples_csv(samples))
    paths[1].write_text(samples_jsonl(samples))
    return paths
