"""A report as lines for a terminal."""

from __future__ import annotations

import json
from typing import Any

from migtui.units import human_bytes, human_rate


def _rate(value: float | None) -> str:
    return human_rate(value) if value is not None else "-"


def _action_text(action: Any) -> str:
    """What the prediction advised, in its own words (``raise downtime-limit to 3900 ms ...``)."""
    if isinstance(action, dict):
        text = str(action.get("text") or f"{action.get('name')} {action.get('value')}")
        return text + (f"; done in about {action['eta_s']:g} s" if action.get("eta_s") else "")
    return str(action)


def report_lines(report: dict[str, Any]) -> list[str]:
    r, down = report, report["downtime_ms"]
    lines = [
        f"{r['vm']}: migration {r['migration']} of {r['migrations_recorded']} ({r['role']})",
        f"  outcome      {r['outcome']}" + (f": {r['error']}" if r["error"] else ""),
        f"  start        {r['start']}",
        f"  end          {r['end'] or '-'}   ({r['duration_s']} s)",
        f"  passes       {r['passes']}",
        f"  sent         {human_bytes(r['bytes']['transferred'])} of {human_bytes(r['bytes']['total'])} RAM",
        f"  throughput   average {_rate(r['throughput_bytes_s']['average'])}, "
        f"median {_rate(r['throughput_bytes_s']['median'])}, peak {_rate(r['throughput_bytes_s']['peak'])}",
        f"  dirty rate   median {_rate(r['dirty_rate_bytes_s']['median'])}, "
        f"peak {_rate(r['dirty_rate_bytes_s']['peak'])}",
        f"  downtime     {down['achieved'] if down['achieved'] is not None else '-'} ms "
        f"(limit {down['limit'] if down['limit'] is not None else '-'} ms"
        + ("" if down["within_limit"] is None else ", within" if down["within_limit"] else ", OVER the limit") + ")",
    ]
    if r["capabilities_on"]:
        lines.append(f"  capabilities {', '.join(r['capabilities_on'])}")
    if r["verdict"]:
        lines.append(f"  verdict      {r['verdict']['why']}")
        lines += [f"               - {_action_text(action)}" for action in r["verdict"]["last"].get("actions") or []]
    if r.get("advice_followed"):
        lines.append("  advice followed (promise, outcome)")
        lines += [f"    {f['time']}  {f['words']}" for f in r["advice_followed"]]
    if r["gaps"]:
        lines.append("  gaps in the recording: " + ", ".join(f"{g['seconds']} s from {g['from']}" for g in r["gaps"]))
    if r["changes"]:
        lines.append("  changes")
        lines += [f"    {c['time']}  {c['what']}: {c['from']} -> {c['to']}  ({c['origin']})" for c in r["changes"]]
    if r["policy_steps"]:
        lines.append("  policy steps")
        lines += [f"    {p['time']}  {', '.join(f'{k}={v}' for k, v in p.items() if k != 'time')}"
                  for p in r["policy_steps"]]
    if r["audit"]:
        lines.append("  commands (audit log)")
        # Arguments as QMP spells them (JSON), not as Python prints a dict.
        lines += [f"    {a['time']}  {a['command']} {json.dumps(a['arguments']) if a.get('arguments') else ''}  "
                  f"{a['outcome']}" for a in r["audit"]]
    if r["events"]:
        # One line per pass would drown the rest: passes are counted above, the other events listed.
        shown = [e for e in r["events"] if e["event"] != "MIGRATION_PASS"]
        passes = len(r["events"]) - len(shown)
        lines.append("  events" + (f" (and {passes} MIGRATION_PASS)" if passes else ""))
        lines += [f"    {e['time']}  {e['event']}  {e['data'] or ''}" for e in shown]
    return lines
