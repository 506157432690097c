"""Internal snapshots as QEMU lists them in ``query-block``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Snapshot:
    node: str
    """The format node holding it (``-blockdev`` leaves the device name empty)."""
    id: str
    tag: str
    date: datetime
    vm_state_size: int
    """Bytes of saved VM state (0: a disk-only snapshot)."""
    vm_clock: float
    """Seconds the guest had run when it was taken."""


def snapshots_from_block(block: list[dict[str, Any]]) -> list[Snapshot]:
    found = []
    for device in block:
        inserted = device.get("inserted") or {}
        node = inserted.get("node-name") or device.get("device") or "?"
        for snap in (inserted.get("image") or {}).get("snapshots", []):
            found.append(Snapshot(
                node=node,
                id=str(snap.get("id")),
                tag=str(snap.get("name")),
                date=datetime.fromtimestamp(snap.get("date-sec", 0) + snap.get("date-nsec", 0) / 1e9),
                vm_state_size=int(snap.get("vm-state-size", 0)),
                vm_clock=snap.get("vm-clock-sec", 0) + snap.get("vm-clock-nsec", 0) / 1e9,
            ))
    return found


def writable_format_nodes(nodes: list[dict[str, Any]]) -> list[str]:
    """Nodes that can hold internal snapshots and VM state: writable qcow2 images."""
    return [n["node-name"] for n in nodes if n.get("drv") == "qcow2" and not n.get("ro") and n.get("node-name")]


def tags_of(found: list[Snapshot]) -> list[str]:
    """Every tag once, in the order listed (a snapshot on two disks is listed twice)."""
    return list(dict.fromkeys(snap.tag for snap in found))


def unknown_tag(vm: str, tag: str, found: list[Snapshot]) -> str | None:
    """Why ``tag`` cannot be loaded or deleted, or None when the VM has it.

    QEMU stops the guest before it looks for the tag: a load of a tag that
    does not exist leaves the VM paused in ``restore-vm``. Checked first."""
    if tag in tags_of(found):
        return None
    known = ", ".join(repr(t) for t in tags_of(found))
    return f"{vm} has no snapshot {tag!r} " + (f"(its snapshots: {known})" if known else "(it has none)")
