"""QMP events as typed, timestamped records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class QMPEvent:
    vm: str
    name: str
    data: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    """time.monotonic() when migtui received it."""
    wall: float = field(default_factory=time.time)
    """QEMU's own timestamp (seconds since the epoch) when it sent one."""

    @classmethod
    def from_qmp(cls, vm: str, message: dict[str, Any]) -> QMPEvent:
        stamp = message.get("timestamp") or {}
        wall = stamp.get("seconds", 0) + stamp.get("microseconds", 0) / 1e6 if stamp else time.time()
        return cls(vm=vm, name=str(message.get("event")), data=dict(message.get("data") or {}), wall=wall)

    def describe(self) -> str:
        """A short human text: the event's most telling data."""
        data = self.data
        if self.name == "MIGRATION":
            return f"status {data.get('status')}"
        if self.name == "MIGRATION_PASS":
            return f"pass {data.get('pass')}"
        if self.name == "JOB_STATUS_CHANGE":
            return f"job {data.get('id')}: {data.get('status')}"
        if self.name in ("STOP", "RESUME"):
            return ""
        return " ".join(f"{k}={v}" for k, v in data.items())
