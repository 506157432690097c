"""What recorded migrations reached, by route: from a source's place to a destination.

A recording knows where a migration went when the process that recorded it
started it: the gate's ``migrate`` audit entry (its ``uri``) is copied into
the recording (:mod:`migtui.record.audit_tee`). The source's place is where
the VM was when the entry was written (the fleet's ``where``: its ``[[host]]``,
the libvirt host the domain ran on, or the machine its QMP socket is on); in
recordings made before that was kept, the VM's ``host`` in the recording.
Migrations whose destination the recording does not know are left out rather
than guessed: a figure said to be of the path to hv2 must be of the path to hv2.

Each migration's figure follows the rule the live one does
(:class:`migtui.model.reached.Reached`), read from the VM's samples after
its ``migrate`` until it ended. Reading decodes those samples, so callers
run it off the event loop (:mod:`migtui.qmp.path_history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migtui.model.reached import Reached
from migtui.model.sample import MigrationInfo
from migtui.model.status import ACTIVE_STATES, FINAL_STATES
from migtui.qmp.path_probe import destination_of
from migtui.record.reader import RecordedEntry, Recording

EARLY_SAMPLES_S = 1.0
"""Seconds before its ``migrate`` entry a migration's samples are read from."""
Route = tuple[str, str]
"""(the source's place, the destination: :func:`~migtui.qmp.path_probe.destination_of` of the URI)."""


@dataclass(frozen=True)
class RouteBest:
    bandwidth: float
    """Bytes a second: the best any recorded migration of the route reached."""
    migrations: int
    """Recorded migrations of the route that reached a figure at all."""


def reached_by_route(file: Path, before: float | None = None) -> dict[Route, RouteBest]:
    """The best figure of every route in the recording ``file``, from migrations started before
    ``before`` (wall clock; None: all). Raises RecordingError for a file that is not one."""
    best: dict[Route, RouteBest] = {}
    with Recording(file) as recording:
        for vm in recording.vms.values():
            starts = [entry for entry in recording.entries(vm.name, ["audit"], until=before)
                      if _migrate_uri(entry) is not None]
            for index, entry in enumerate(starts):
                ends = starts[index + 1].wall if index + 1 < len(starts) else None
                # The audit entry is timed when the gate heard QEMU's answer; a poll answered about then
                # may be a moment earlier. Before a migrate nothing of this VM is active, so start sooner.
                reached = _reached(recording, vm.name, entry.wall - EARLY_SAMPLES_S, ends)
                if reached is None:
                    continue
                route = (_source_place(entry) or vm.host or "?", destination_of(_migrate_uri(entry)))
                known = best.get(route)
                best[route] = RouteBest(max(reached, known.bandwidth if known else 0.0),
                                        (known.migrations if known else 0) + 1)
    return best


def _migrate_uri(entry: RecordedEntry) -> str | None:
    """Where a migration QEMU or libvirt took went: a QMP ``migrate``'s URI, a libvirt migrate's migration
    URI or destination. A ``resume`` after a broken postcopy is the same migration going on, not another."""
    data = entry.data if isinstance(entry.data, dict) else {}
    arguments = data.get("arguments")
    if data.get("command") != "migrate" or data.get("outcome") != "ok" or not isinstance(arguments, dict) \
            or arguments.get("resume"):
        return None
    params = arguments.get("params")
    uri = arguments.get("uri") or (params.get("migrate_uri") if isinstance(params, dict) else None) \
        or arguments.get("dconnuri")
    return uri if isinstance(uri, str) else None


def _source_place(entry: RecordedEntry) -> str | None:
    """Where the VM was when its ``migrate`` went (recordings made before that was kept: None)."""
    data = entry.data if isinstance(entry.data, dict) else {}
    host = data.get("host")
    return host if isinstance(host, str) else None


def _reached(recording: Recording, vm: str, since: float, until: float | None) -> float | None:
    """What the migration started at ``since`` reached, from its samples up to its end."""
    reached, started = Reached(), False
    for row in recording.iter_samples(vm, since=since, until=until):
        status = row.status
        if status in ACTIVE_STATES:
            started = True
            info = MigrationInfo.parse(row.answer)
            if info.ram is not None:
                reached.add(info.ram.mbps * 1e6 / 8)  # QEMU's mbps is megabits a second
        elif started and status in FINAL_STATES:
            break
    return reached.best
