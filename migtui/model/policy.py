"""Migration policies: what may be done, automatically, to make a migration converge.

A policy is a TOML file (found and read by :mod:`migtui.policy_files`)::

    description = "follow the advice within bounds"
    acts = true                # false: observe only (say what it would do)
    max_downtime_ms = 2000     # never advise past this downtime limit
    max_bandwidth = "1G"       # nor past this max-bandwidth (bytes a second)
    postcopy = true            # may switch to postcopy (where postcopy-ram is on)

    [deadline]                 # optional: Nova's completion timeout
    seconds_per_gib = 800      # of guest RAM, counted from the migration's start
    action = "abort"           # abort | postcopy | pause

The steps themselves are the model's advice (``advice.py``), taken one at a
time and within these bounds: see :func:`next_step`. The engine runs them
(``migtui.qmp.policy``); this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from migtui.errors import ConfigError
from migtui.model.advice import Action
from migtui.model.convergence import Prediction, Verdict
from migtui.units import parse_size

DeadlineAction = Literal["abort", "postcopy", "pause"]
GiB = 1 << 30


@dataclass(frozen=True)
class Deadline:
    seconds_per_gib: float
    action: DeadlineAction = "abort"

    def seconds(self, ram_bytes: int) -> float:
        return self.seconds_per_gib * max(ram_bytes, 1) / GiB


@dataclass(frozen=True)
class Policy:
    name: str
    description: str = ""
    acts: bool = True
    max_downtime_ms: int = 2000
    max_bandwidth: int = GiB
    postcopy: bool = False
    deadline: Deadline | None = None


def next_step(policy: Policy, prediction: Prediction, parameters: dict[str, object]) -> Action | None:
    """The first advised action the policy allows, clipped to its bounds; None: nothing to do.

    Order: a longer downtime limit, then more bandwidth, then postcopy. An
    action whose number is past the bound is taken at the bound when that
    is still a change, so the migration gets what the policy allows.
    """
    if prediction.verdict is not Verdict.NOT_CONVERGING:
        return None
    by_name = {action.name: action for action in prediction.actions}
    for name, bound in (("downtime-limit", policy.max_downtime_ms), ("max-bandwidth", policy.max_bandwidth)):
        action = by_name.get(name)
        if action is None or not isinstance(action.value, int):
            continue
        value = min(action.value, bound)
        current = parameters.get(name)
        if isinstance(current, int) and value <= current:
            continue
        clipped = action if value == action.value else replace(
            action, value=value, text=f"{name} to {value} (the policy's bound; advised {action.value})", eta_s=None,
            cost=None)  # the advised value's promise is not this value's
        return clipped
    if policy.postcopy and "migrate-start-postcopy" in by_name:
        return by_name["migrate-start-postcopy"]
    return None


def parse_policy(name: str, data: dict[str, object], path: Path | str = "<policy>") -> Policy:
    known = {"description", "acts", "max_downtime_ms", "max_bandwidth", "postcopy", "deadline"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    try:
        deadline = None
        table = data.get("deadline")
        if table is not None:
            if not isinstance(table, dict):
                raise ValueError("[deadline] must be a table")
            action = table.get("action", "abort")
            if action not in ("abort", "postcopy", "pause"):
                raise ValueError(f"deadline action must be abort, postcopy or pause, not {action!r}")
            seconds = table.get("seconds_per_gib")
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
                raise ValueError(f"deadline seconds_per_gib must be a positive number, not {seconds!r}")
            deadline = Deadline(float(seconds), action)
        downtime = data.get("max_downtime_ms", 2000)
        if not isinstance(downtime, int) or isinstance(downtime, bool) or downtime <= 0:
            raise ValueError(f"max_downtime_ms must be a positive whole number, not {downtime!r}")
        for flag in ("acts", "postcopy"):
            if not isinstance(data.get(flag, True), bool):
                raise ValueError(f"{flag} must be true or false, not {data[flag]!r}")
        return Policy(name, str(data.get("description", "")), bool(data.get("acts", True)), downtime,
                      parse_size(data.get("max_bandwidth", GiB)), bool(data.get("postcopy", False)), deadline)
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None
