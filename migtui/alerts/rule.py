"""One ``[[alert]]`` table of the inventory.

```toml
[[alert]]
when = "stalled"            # stalled | failed | cancelled | no-progress | downtime-over | host-down | completed
after = "60s"               # optional, stalled / no-progress / host-down: how long the condition must hold
downtime_ms = 500           # downtime-over: the budget (default: the downtime-limit in force)
run = "/usr/local/bin/page-oncall"   # optional: gets the alert as one JSON object on stdin
timeout = "10s"             # optional: the command is killed after this long (default 10 s)
```
"""

from __future__ import annotations

import shlex
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from migtui.errors import UsageError
from migtui.record.retention import parse_duration

DEFAULT_TIMEOUT = 10.0
"""Seconds a hook may run before it is killed."""


class Condition(StrEnum):
    STALLED = "stalled"
    """The prediction says the migration will not converge at its current settings."""
    NO_PROGRESS = "no-progress"
    """QEMU says active (or postcopy-active) but has sent nothing for a while (the prediction's no-progress
    or postcopy-stalled)."""
    HOST_DOWN = "host-down"
    """migtui cannot reach the VM (its QMP link, or its host's SSH connection, is down)."""
    FAILED = "failed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    DOWNTIME_OVER = "downtime-over"
    """A migration completed with a downtime over the budget."""

    @property
    def lasting(self) -> bool:
        """A state that holds for a while (``after`` applies), not a moment (a migration's end)."""
        return self in LASTING


LASTING = frozenset({Condition.STALLED, Condition.NO_PROGRESS, Condition.HOST_DOWN})


def _seconds(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError("must be positive")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as \"60s\" or \"5m\"")
    try:
        return parse_duration(value)
    except UsageError as error:
        raise ValueError(str(error)) from None


class AlertRule(BaseModel):
    """When to alert, and what to run then."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: Condition
    """The condition (see :class:`Condition`)."""
    after: float = 0.0
    """Seconds the condition must hold before the alert fires (lasting conditions only)."""
    downtime_ms: int | None = Field(default=None, gt=0)
    """downtime-over: the budget in milliseconds (None: the VM's downtime-limit)."""
    run: str | None = None
    """A command (split as a shell would, not run by one) that reads the alert's JSON on stdin."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds the command may take before it is killed."""

    @field_validator("after", "timeout", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return _seconds(value)

    @field_validator("run")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                if not shlex.split(value):
                    raise ValueError("the command is empty")
            except ValueError as error:
                raise ValueError(f"cannot read the command: {error}") from None
        return value

    @field_validator("after")
    @classmethod
    def _lasting_only(cls, value: float, info: ValidationInfo) -> float:
        when = info.data.get("when")
        if value and when is not None and not when.lasting:
            raise ValueError(f"applies to stalled, no-progress and host-down only ({when} is a moment, not a state)")
        return value

    @field_validator("downtime_ms")
    @classmethod
    def _downtime_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        when = info.data.get("when")
        if value is not None and when is not None and when is not Condition.DOWNTIME_OVER:
            raise ValueError('applies to when = "downtime-over" only')
        return value

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.run) if self.run else []
