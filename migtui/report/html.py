"""A report as one self-contained HTML page: the figures, then the charts as embedded PNGs."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from migtui.model.sample import Sample
from migtui.report.charts import charts
from migtui.report.text import report_lines

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}"
          "pre{background:#f6f6f6;padding:1em;overflow-x:auto}img{max-width:100%;display:block;margin:1em 0}")


def report_html(report: dict[str, Any], samples: Sequence[Sample]) -> str:
    title = f"migtui: {report['vm']}, migration {report['migration']} ({report['outcome']})"
    images = charts(samples, report["downtime_ms"]["limit"])
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<pre>{html.escape(chr(10).join(report_lines(report)))}</pre>"]
    for caption, png in images.items():
        parts.append(f"<h2>{html.escape(caption)}</h2>"
                     f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{png}'>")
    parts.append("<h2>Data</h2><details><summary>the report as JSON</summary>"
                 f"<pre>{html.escape(json.dumps(report, indent=2))}</pre></details></body></html>")
    return "\n".join(parts)
