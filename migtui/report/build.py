"""The post-mortem of one recorded migration, as plain data (JSON-ready).

Figures come from QEMU's own answers (the final sample's ``total-time``,
``downtime``, ``dirty-sync-count``, ``transferred``); parameter changes from
the recorded settings, each matched with the audit entry that made it when
there is one; the verdict from the predictions recorded as they were made.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import datetime
from typing import Any

from migtui.model.promise import Promise
from migtui.record.reader import RecordedEntry, Recording
from migtui.report.migrations import RecordedMigration, is_incoming, migrations_of

BEFORE = 60.0
"""Seconds before the start whose changes and audit entries belong to the migration (its set-up)."""
GAP = 5.0
"""Seconds without a sample, while migrating, that count as a gap in the recording."""


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="milliseconds")


def build_report(recording: Recording, migration: RecordedMigration,
                 audit_log: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``audit_log``: the entries of the audit log file: a command of another migtui process (``migtui
    migrate --set`` beside a recorder) is only there, as the recorder copies only its own gate's."""
    vm, samples = migration.vm, migration.samples
    last = samples[-1]
    info, ram = last.info, last.info.ram
    took_ms = info.total_time
    start = migration.end - took_ms / 1000 if took_ms is not None and migration.final else migration.start
    window = (min(start, migration.start) - BEFORE, migration.end)
    measured = [s for s in samples if s.info.ram and s.info.ram.dirty_sync_count >= 2 and s.active]
    sending = [s.throughput for s in samples if s.active and s.throughput > 0]
    settings = _settings_at(recording, vm, migration.end)
    limit = settings.get("parameters", {}).get("downtime-limit")
    expected = [s.info.expected_downtime for s in samples if s.active and s.info.expected_downtime is not None]
    report: dict[str, Any] = {
        "vm": vm,
        "migration": migration.number,
        "migrations_recorded": len(migrations_of(recording, vm)),
        "role": "destination" if is_incoming(recording, migration) else "source",
        "start": iso(start),
        "end": iso(migration.end) if migration.final else None,
        "duration_s": round(took_ms / 1000, 3) if took_ms is not None else round(migration.end - start, 3),
        "outcome": migration.final or "unfinished (the recording ends while it runs)",
        "error": info.error_desc,
        "passes": last.passes if ram else None,
        "bytes": {
            "transferred": ram.transferred if ram else None,
            "total": ram.total if ram else None,
            "remaining": ram.remaining if ram else None,
        },
        "throughput_bytes_s": {
            "average": round(ram.transferred / (took_ms / 1000)) if ram and took_ms else None,
            "median": round(statistics.median(sending)) if sending else None,
            "peak": round(max(sending)) if sending else None,
        },
        "dirty_rate_bytes_s": {
            "median": round(statistics.median(s.dirty_rate for s in measured)) if measured else None,
            "peak": round(max(s.dirty_rate for s in measured)) if measured else None,
        },
        "downtime_ms": {
            "achieved": info.downtime,
            "limit": limit,
            "within_limit": None if info.downtime is None or limit is None else info.downtime <= limit,
            "last_expected": expected[-1] if expected else None,
            "setup_time": info.setup_time,
        },
        "capabilities_on": sorted(k for k, v in settings.get("capabilities", {}).items() if v),
        "changes": _changes(recording, vm, window, audit_log or []),
        "audit": [_audit(e) for e in _audit_entries(recording, vm, window, audit_log or [])],
        "policy_steps": [{"time": iso(e.wall), **(e.data if isinstance(e.data, dict) else {"step": e.data})}
                         for e in recording.entries(vm, ["policy"], since=window[0], until=window[1])],
        "events": [{"time": iso(e.wall), "event": e.data.get("name"), "data": e.data.get("data")}
                   for e in recording.entries(vm, ["event"], since=migration.start - 1, until=migration.end + 1)],
        "verdict": _verdict(recording, vm, migration),
        "advice_followed": _followed(recording, vm, migration),
        "gaps": _gaps(migration),
        "samples": len(samples),
    }
    return report


def _settings_at(recording: Recording, vm: str, at: float) -> dict[str, Any]:
    found = recording.entries(vm, ["settings"], until=at, newest=1)
    return found[0].data if found else {}


def _audit_entries(recording: Recording, vm: str, window: tuple[float, float],
                   audit_log: list[dict[str, Any]]) -> list[RecordedEntry]:
    """The VM's audit entries in ``window``: the recording's, and the audit log file's it lacks, by time."""
    recorded = recording.entries(vm, ["audit"], since=window[0], until=window[1])
    seen = {(e.data.get("time"), e.data.get("command")) for e in recorded}
    from_file = []
    for data in audit_log:
        try:
            wall = datetime.fromisoformat(str(data.get("time"))).timestamp()
        except ValueError:
            continue  # a line another tool wrote: not ours to read
        known = (data.get("time"), data.get("command")) in seen
        if data.get("vm") == vm and window[0] <= wall <= window[1] and not known:
            from_file.append(RecordedEntry(id=0, vm=vm, run=0, wall=wall, mono=0.0, kind="audit", data=data))
    return sorted([*recorded, *from_file], key=lambda entry: entry.wall)


def _changes(recording: Recording, vm: str, window: tuple[float, float],
             audit_log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every parameter and capability that changed in ``window``, and who changed it."""
    before = _settings_at(recording, vm, window[0])
    audit = _audit_entries(recording, vm, (window[0] - 5, window[1]), audit_log)
    changes = []
    for entry in recording.entries(vm, ["settings"], since=window[0], until=window[1]):
        for section in ("parameters", "capabilities"):
            old, new = before.get(section, {}), entry.data.get(section, {})
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name) and before:
                    changes.append({"time": iso(entry.wall), "what": name, "from": old.get(name),
                                    "to": new.get(name), "origin": _origin(audit, name, entry.wall)})
        before = entry.data
    return changes


def _origin(audit: list[RecordedEntry], name: str, seen: float) -> str:
    for entry in reversed(audit):
        arguments = entry.data.get("arguments", {})
        named = name in arguments or any(c.get("capability") == name for c in arguments.get("capabilities", []))
        if entry.wall <= seen + 1 and named and entry.data.get("outcome") == "ok":
            return f"migtui ({entry.data.get('command')} at {iso(entry.wall)}, audit log)"
    return "not through migtui (no audit entry)"


def _audit(entry: RecordedEntry) -> dict[str, Any]:
    data = dict(entry.data)
    data.setdefault("time", iso(entry.wall))
    return data


def _verdict(recording: Recording, vm: str, migration: RecordedMigration) -> dict[str, Any] | None:
    """The predictions made during the migration: each change, and the last one before the end."""
    made = recording.entries(vm, ["prediction"], since=migration.start, until=migration.end + 1)
    if not made:
        return None
    history, last_verdict = [], None
    for entry in made:
        verdict = entry.data.get("verdict")
        if verdict != last_verdict:
            history.append({"time": iso(entry.wall), "verdict": verdict, "summary": entry.data.get("summary")})
            last_verdict = verdict
    telling = [e.data for e in made if e.data.get("verdict") not in ("finished", "idle")]
    final = telling[-1] if telling else made[-1].data
    because = "; ".join(final.get("reasons") or [str(final.get("summary"))])
    if migration.final == "completed":
        why = f"converged: {because}"
    elif migration.final:
        why = f"{migration.final} while the prediction said: {because}"
    else:
        why = str(final.get("summary"))
    return {"last": final, "why": why, "history": history}


def _followed(recording: Recording, vm: str, migration: RecordedMigration) -> list[dict[str, Any]]:
    """Each advice followed during the migration: its promise and the outcome (from the last prediction
    recorded, which has the outcome once the migration ended)."""
    made = recording.entries(vm, ["prediction"], since=migration.start, until=migration.end + 1)
    kept = [entry.data.get("followed") for entry in made if entry.data.get("followed")]
    if not kept:
        return []
    try:
        promises = [Promise.recorded(fields) for fields in kept[-1]]
    except TypeError:  # written by a migtui whose promises had other fields: not told rather than misread
        return []
    final = migration.samples[-1].info
    if migration.final == "completed" and final.downtime:
        # QEMU's first "completed" answer can say downtime 0 (it sets the status, then the figure):
        # the migration's last recorded answer has it.
        promises = [replace(p, status=migration.final, downtime_ms=final.downtime) for p in promises]
    return [{"time": iso(p.taken_wall), "words": p.words(), **p.to_json()} for p in promises]


def _gaps(migration: RecordedMigration) -> list[dict[str, Any]]:
    gaps = []
    for before, after in zip(migration.rows, migration.rows[1:], strict=False):
        if after.wall - (before.until or before.wall) > GAP:
            gaps.append({"from": iso(before.until or before.wall), "to": iso(after.wall),
                         "seconds": round(after.wall - (before.until or before.wall), 1)})
    return gaps
