"""Recorded lab migrations (see record_traces.py), read back for tests and benchmarks.

A trace replays into a :class:`~migtui.model.vm_state.VMState` the way the
poller fills it (``tracker.add`` with the recorded times), and into the
dashboard through its fleet subscriber, so what a test sees went through
the same code as live samples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migtui.model.events import QMPEvent
from migtui.model.link import LinkState
from migtui.model.vm_state import VMState

HERE = Path(__file__).parent


@dataclass
class Trace:
    name: str
    parameters: dict[str, Any]
    capabilities: dict[str, bool]
    guest: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    """Samples and events in the order they arrived."""

    @property
    def samples(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["kind"] == "sample"]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["kind"] == "event"]

    def until(self, seconds: float) -> Iterator[dict[str, Any]]:
        return (e for e in self.entries if e["at"] <= seconds)


def load_trace(name: str) -> Trace:
    """``converging`` or ``not-converging``."""
    lines = (HERE / f"trace-{name}.jsonl").read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    return Trace(name, header["parameters"], header["capabilities"], header["guest"],
                 [json.loads(line) for line in lines[1:]])


def event_of(vm: str, entry: dict[str, Any], clock: float = 0.0) -> QMPEvent:
    return QMPEvent(vm=vm, name=entry["event"], data=dict(entry["data"]), at=clock + entry["at"], wall=entry["wall"])


def replay_into(state: VMState, trace: Trace, until: float | None = None, clock: float = 0.0) -> None:
    """Fill ``state`` with the trace up to ``until`` seconds, times shifted by ``clock``."""
    state.link, state.run_state, state.version = LinkState.CONNECTED, "running", "7.2.22"
    state.set_settings(dict(trace.parameters), dict(trace.capabilities), at=float("-inf"))  # held throughout
    for entry in trace.entries:
        if until is not None and entry["at"] > until:
            break
        if entry["kind"] == "sample":
            state.tracker.add(entry["answer"], at=clock + entry["at"], wall=entry["wall"])
        else:
            state.events.append(event_of(state.name, entry, clock))
    latest = state.latest
    if latest is not None and latest.status == "completed":
        state.run_state = "postmigrate"


def recorded_fleet(read_only: bool = False):
    """A fleet that never connects, its VMs filled from the traces: one stuck
    mid-migration, one converging, one completed, a waiting destination, a
    destination that took over, and a VM whose link is down."""
    from migtui.inventory import VMEntry
    from migtui.qmp.fleet import Fleet
    from migtui.qmp.gate import CommandGate

    names = ("batch-1", "db-1", "db-1-dst", "old-1", "web-1", "web-1-dst")
    fleet = Fleet([VMEntry(name=name, qmp=f"/nonexistent/{name}.qmp", group="lab") for name in names],
                  CommandGate(read_only=read_only))
    states = fleet.states
    replay_into(states["batch-1"], load_trace("not-converging"), until=30.0)
    replay_into(states["db-1"], load_trace("converging"), until=5.0)
    replay_into(states["web-1"], load_trace("converging"))
    for name, run_state in (("db-1-dst", "inmigrate"), ("web-1-dst", "running")):
        states[name].link, states[name].run_state, states[name].version = LinkState.CONNECTED, run_state, "7.2.22"
    states["old-1"].link, states["old-1"].link_error = LinkState.DISCONNECTED, "connection reset by QEMU (exited?)"
    return fleet
