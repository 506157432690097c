"""What would make a migration converge, each action with its number and its ETA.

Every number comes from the same rule the verdict uses: the next pass's
dirty set S must fit into bandwidth x downtime-limit. S is the largest of
the recent per-pass dirty sets (stable across the saw-tooth of
``remaining``), times the growth seen from pass to pass, times a margin.

* ``downtime-limit`` L' = S / B: the pass that is running ends once what is
  left fits L', and what the guest dirtied during it fits too.
* ``max-bandwidth`` B' = S / L, offered only where the cap is what holds
  QEMU back (it sends at about the cap). A guest that rewrites a working set
  dirties about S whatever the bandwidth, so the bandwidth that helps is the
  one at which S fits the downtime limit, not a multiple of QEMU's dirty rate
  (which, for such a guest, follows the bandwidth). Whether the link carries
  B' is the one thing migtui cannot see.
* ``avail-switchover-bandwidth`` (QEMU 8.2 and newer) = S / L: QEMU takes it
  instead of the measured bandwidth when deciding to switch over.
* ``auto-converge`` is not among them: QEMU refuses to change a capability
  while a migration runs, so it is said as a reason for the next migration
  (and weighed by the verdict when it is on, see ``throttle_eta``).
* ``postcopy`` (postcopy-ram on): the guest runs on the destination at once
  and the rest is sent once, so it ends after about (left + S) / B.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from migtui.model.estimate import STEADY, Estimate, MigrationSettings
from migtui.units import human_bytes, human_ms, human_rate

MARGIN = 1.3
"""Head-room over the measured dirty set: bandwidth readings wobble by some per cent."""
BINDING_CAP = 0.8
"""Throughput at this share of max-bandwidth or more: the cap is what limits it."""
MAX_DOWNTIME_MS = 2_000_000  # QEMU refuses more (2000 s)
PLAUSIBLE_RAISE = 10
"""A max-bandwidth beyond this many times what QEMU sends now is not offered: the
cap would no longer be what limits the link, and migtui cannot see the link."""

ADVISED_PASSES = 8
"""A shrinking guest is advised the smallest downtime limit that converges within this many passes."""
MIN_ETA_S = 1.0
"""No ETA is shorter: the switchover itself and the polls that see it take some of a second."""

ActionKind = Literal["parameter", "capability", "postcopy"]
Simulator = Callable[[Estimate, MigrationSettings, float], "tuple[float, float, int] | None"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    name: str
    """A parameter or capability as QEMU spells it, or the command (postcopy)."""
    value: int | bool | None
    text: str
    eta_s: float | None
    """Seconds until the migration completes once this is done (by the model)."""

    @property
    def short(self) -> str:
        """A few words for a narrow panel: 'downtime-limit 3900 ms', 'postcopy'."""
        if self.kind == "postcopy":
            return "postcopy"
        if self.name == "downtime-limit":
            return f"{self.name} {self.value} ms"
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return f"{self.name} {human_rate(self.value)}"
        return f"{self.name} {'on' if self.value else 'off'}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "value": self.value, "text": self.text,
                "eta_s": None if self.eta_s is None else round(self.eta_s, 1)}


def advise(found: Estimate, settings: MigrationSettings, simulate: Simulator | None = None) -> list[Action]:
    """``simulate`` (the verdict's pass arithmetic) lets a shrinking guest be given the smallest
    downtime limit that converges within ADVISED_PASSES, instead of one that fits its largest set."""
    dirty = found.dirty_set * found.growth
    bandwidth, limit_s = found.bandwidth, settings.downtime_limit_s
    cap = settings.max_bandwidth
    capped = bool(cap) and bandwidth >= BINDING_CAP * (cap or 0)
    # QEMU lifts max-bandwidth for the final copy: where the cap is what limits QEMU,
    # the stop is much shorter than dirty / bandwidth, and not part of the wait.
    final_copy = 0.0 if capped else dirty / bandwidth
    actions: list[Action] = []

    downtime_ms = _two_digits_up(dirty * MARGIN / bandwidth * 1000)
    eta = max(found.remaining - bandwidth * downtime_ms / 1000, 0) / bandwidth + final_copy
    shrinking = (found.shrink_ratio is not None and found.shrink_ratio < STEADY
                 and not found.rate_follows_bandwidth)
    if simulate is not None and shrinking and found.shrink_ratio is not None:
        for smaller in _smaller_limits(downtime_ms, found, settings):
            run = simulate(found, replace(settings, downtime_limit_ms=smaller), found.shrink_ratio)
            if run is not None and run[2] <= ADVISED_PASSES:
                downtime_ms, eta = smaller, run[0]
                break
    if downtime_ms <= MAX_DOWNTIME_MS:
        actions.append(Action("parameter", "downtime-limit", downtime_ms,
                              f"raise downtime-limit to {downtime_ms} ms (from {settings.downtime_limit_ms}): "
                              f"the guest stops for at most {human_ms(downtime_ms)}", _at_least(eta)))

    if capped and cap and limit_s > 0:
        wanted = _mib_up(dirty * MARGIN / limit_s)
        if cap < wanted <= PLAUSIBLE_RAISE * bandwidth:
            eta = max(found.remaining - wanted * limit_s, 0) / wanted
            actions.append(Action("parameter", "max-bandwidth", wanted,
                                  f"raise max-bandwidth to {human_rate(wanted)} (from {human_rate(cap)}), "
                                  "if the link carries it", _at_least(eta)))
        if settings.avail_switchover_bandwidth is not None:
            eta = max(found.remaining - wanted * limit_s, 0) / bandwidth
            actions.append(Action("parameter", "avail-switchover-bandwidth", wanted,
                                  f"set avail-switchover-bandwidth to {human_rate(wanted)}: QEMU switches over "
                                  "when the dirty set fits at that speed", _at_least(eta)))

    if settings.postcopy_ram:
        eta = (found.remaining + dirty) / bandwidth
        actions.append(Action("postcopy", "migrate-start-postcopy", None,
                              f"switch to postcopy: the guest runs on the destination at once, "
                              f"{human_bytes(found.remaining + dirty)} follow on demand", _at_least(eta)))
    return actions


def _smaller_limits(fits_all_ms: int, found: Estimate, settings: MigrationSettings) -> list[int]:
    """Downtime limits between the current one and one that fits the largest dirty set, smallest first."""
    candidates, value = [], max(settings.downtime_limit_ms * 2, 10)
    while value < fits_all_ms:
        candidates.append(_two_digits_up(value))
        value *= 2
    return candidates


def _at_least(eta: float) -> float:
    return max(eta, MIN_ETA_S)


def throttle_eta(found: Estimate, settings: MigrationSettings, throttle: int) -> float:
    """Seconds until auto-converge has raised the throttle from ``throttle`` to its maximum and the
    migration switched over: QEMU raises it by cpu-throttle-increment every second pass (an upper
    bound: a guest slowed enough converges before the throttle tops out)."""
    dirty = found.dirty_set * found.growth
    start = max(throttle, settings.throttle_initial - settings.throttle_increment)
    raises = math.ceil(max(settings.max_throttle - start, 0) / max(settings.throttle_increment, 1))
    return found.remaining / found.bandwidth + (2 * raises + 1) * dirty / found.bandwidth \
        + settings.downtime_limit_s


def _two_digits_up(value: float) -> int:
    """Rounded up to two significant digits: 3871 -> 3900, 127 -> 130 (stable from pass to pass)."""
    if value <= 10:
        return max(1, math.ceil(value))
    step = 10 ** (int(math.log10(value)) - 1)
    return int(math.ceil(value / step) * step)


def _mib_up(value: float) -> int:
    mib = 1024 * 1024
    return _two_digits_up(value / mib) * mib
