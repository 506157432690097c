"""What would make a migration converge, each action with its number, its ETA and its cost to the guest.

Every number comes from the same rule the verdict uses: the next pass's
dirty set S must fit into bandwidth x downtime-limit. S is the largest of
the recent per-pass dirty sets (stable across the saw-tooth of
``remaining``), times the growth seen from pass to pass, times a margin.
The actions come ranked by what they cost the guest, cheapest first, as an
admin ranks fixes: the network before the guest.

* ``max-bandwidth`` B' = S / L (no cost to the guest), offered where the cap
  is what holds QEMU back (it sends at about the cap) and within what the
  path carries (:mod:`migtui.model.path`; without a known path, at most 10x
  today's throughput). A guest that rewrites a working set dirties about S
  whatever the bandwidth, so the bandwidth that helps is the one at which S
  fits the downtime limit; its true rate is unknown, so the stop the action
  names is its worst case: the whole set still dirty at B'.
* ``max-bandwidth`` + ``downtime-limit`` together (a short stop), where the
  path carries more than the cap but not B': the path's bandwidth and the
  smallest limit that fits S at it.
* ``avail-switchover-bandwidth`` (QEMU 8.2 and newer) = S / L: QEMU takes it
  instead of the measured bandwidth when deciding to switch over; the guest
  stops while S is sent at the path's speed (QEMU lifts the cap for it).
* ``downtime-limit`` L' = S / B alone: a stop of S / B.
* ``postcopy`` (postcopy-ram on): the guest runs on the destination at once
  and the rest is sent once, so it ends after about (left + S) at
  max-postcopy-bandwidth (max-bandwidth does not hold it back), else at
  what the path carries; a
  network failure meanwhile pauses the guest on both hosts until recovered.
* ``auto-converge`` (throttling) is not among them: QEMU refuses to change a
  capability while a migration runs, so it is said as a reason for the next
  migration (and weighed by the verdict when it is on, see ``throttle_eta``).
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
"""Without a known path, a max-bandwidth beyond this many times what QEMU sends now is not offered."""
PATH_SHARE = 0.9
"""The share of what the path carries a bandwidth action may ask for: headers and other traffic take the rest."""
WORTH_RAISING = 1.25
"""The path must carry this many times the cap for a combined bandwidth and limit action to be worth it."""

ADVISED_PASSES = 8
"""A shrinking guest is advised the smallest downtime limit that converges within this many passes."""
MIN_ETA_S = 0.2
"""No ETA is shorter: the switchover itself takes some of a second (bench_advice: QEMU 7.2 under TCG
ended 0.06-0.14 s after an action that let it switch over at once)."""

ActionKind = Literal["parameter", "capability", "postcopy"]
Simulator = Callable[[Estimate, MigrationSettings, float], "tuple[float, float, int] | None"]


class CostRank:
    NONE = 0
    """Nothing the guest notices."""
    STOP = 1
    """The guest stops at switchover for the time said."""
    REMOTE = 2
    """The guest runs on the destination before all of it is there (postcopy)."""


@dataclass(frozen=True)
class Cost:
    rank: int
    """:class:`CostRank`: what kind of cost, the first key of the order."""
    words: str
    """The cost to the guest in words: 'none to the guest; uses 160 MiB/s of a 1.2 GiB/s path'."""
    stop_ms: float | None = None
    """How long the guest stops at switchover at most, by the model (None: not a stop)."""

    @property
    def short(self) -> str:
        """A few words for a panel (the path is told there already): 'no cost to the guest'."""
        if self.rank == CostRank.NONE:
            return "no cost to the guest"
        if self.rank == CostRank.STOP:
            return f"guest stops ≤ {human_ms(self.stop_ms)}" if self.stop_ms is not None else "a stop"
        return "runs on the destination; a network failure pauses it"

    def to_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "words": self.words,
                "stop_ms": None if self.stop_ms is None else round(self.stop_ms)}


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    name: str
    """A parameter or capability as QEMU spells it, the command (postcopy), or the parameters of a
    combined action joined by '+' ('max-bandwidth+downtime-limit')."""
    value: int | bool | None
    text: str
    eta_s: float | None
    """Seconds until the migration completes once this is done (by the model)."""
    cost: Cost | None = None
    changes: tuple[tuple[str, int], ...] = ()
    """For a combined action, every parameter it sets (one migrate-set-parameters); empty otherwise."""

    @property
    def short(self) -> str:
        """A few words for a narrow panel: 'downtime-limit 3900 ms', 'postcopy'."""
        if self.kind == "postcopy":
            return "postcopy"
        if self.changes:
            return " + ".join(_short(name, value) for name, value in self.changes)
        return _short(self.name, self.value)

    @property
    def sets(self) -> dict[str, int | bool | None]:
        """The parameters (or capability) it changes, with their new values."""
        return dict(self.changes) if self.changes else {self.name: self.value}

    def to_json(self) -> dict[str, Any]:
        made: dict[str, Any] = {"kind": self.kind, "name": self.name, "value": self.value, "text": self.text,
                                "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
                                "cost": None if self.cost is None else self.cost.to_json()}
        if self.changes:
            made["changes"] = dict(self.changes)
        return made


def _short(name: str, value: int | bool | None) -> str:
    if name == "downtime-limit":
        return f"{name} {value} ms"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{name} {human_rate(value)}"
    return f"{name} {'on' if value else 'off'}"


def advise(found: Estimate, settings: MigrationSettings, simulate: Simulator | None = None) -> list[Action]:
    """The actions that converge, cheapest for the guest first.

    ``simulate`` (the verdict's pass arithmetic) lets a shrinking guest be given the smallest
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
                              f"the guest stops for at most {human_ms(downtime_ms)}", _at_least(eta),
                              Cost(CostRank.STOP, f"a stop of at most {human_ms(downtime_ms)}", downtime_ms)))

    if capped and cap and limit_s > 0:
        actions += _bandwidth_actions(found, settings, cap, dirty, downtime_ms)

    if settings.postcopy_ram:
        # Postcopy is not held to max-bandwidth: its own cap, else what the path carries, else today's speed.
        speed = float(settings.max_postcopy_bandwidth) if settings.max_postcopy_bandwidth else \
            max(settings.path.bandwidth if settings.path else 0.0, bandwidth)
        eta = (found.remaining + dirty) / speed
        actions.append(Action("postcopy", "migrate-start-postcopy", None,
                              f"switch to postcopy: the guest runs on the destination at once, "
                              f"{human_bytes(found.remaining + dirty)} follow on demand", _at_least(eta),
                              Cost(CostRank.REMOTE, "no stop to speak of, but the guest runs on the destination "
                                   "before its memory is all there: if the network fails meanwhile, it pauses "
                                   "on both hosts until recovered (migtui recover)")))
    return sorted(actions, key=_cheapest_first)


def _cheapest_first(action: Action) -> tuple[int, float]:
    cost = action.cost
    return (cost.rank, cost.stop_ms or 0.0) if cost is not None else (CostRank.REMOTE + 1, 0.0)


def _bandwidth_actions(found: Estimate, settings: MigrationSettings, cap: int, dirty: float,
                       downtime_only_ms: int) -> list[Action]:
    """More bandwidth, alone or with a shorter limit than downtime alone needs, within what the path carries."""
    bandwidth, limit_s, path = found.bandwidth, settings.downtime_limit_s, settings.path
    ceiling = PATH_SHARE * path.bandwidth if path is not None else PLAUSIBLE_RAISE * bandwidth
    of_path = f" of {path.words}" if path is not None else ", if the link carries it (migtui does not know the path)"
    wanted = _mib_up(dirty * MARGIN / limit_s)
    actions: list[Action] = []
    if cap < wanted <= ceiling:
        eta = max(found.remaining - wanted * limit_s, 0) / wanted
        stop_ms = dirty / wanted * 1000
        # A saturated guest's true rate is unknown: its worst case is the whole set still dirty.
        worst = (f"; at worst the whole {human_bytes(dirty)} stays dirty: a stop of {human_ms(stop_ms)}"
                 if found.saturated else "")
        actions.append(Action("parameter", "max-bandwidth", wanted,
                              f"raise max-bandwidth to {human_rate(wanted)} (from {human_rate(cap)}){worst}",
                              _at_least(eta),
                              Cost(CostRank.NONE, f"none to the guest; uses {human_rate(wanted)}{of_path}", stop_ms)))
    elif wanted > ceiling and path is not None and ceiling >= WORTH_RAISING * cap:
        raised = _mib_down(ceiling)
        limit_ms = _two_digits_up(dirty * MARGIN / raised * 1000)
        if limit_ms < downtime_only_ms:
            eta = max(found.remaining - raised * limit_ms / 1000, 0) / raised
            actions.append(Action(
                "parameter", "max-bandwidth+downtime-limit", raised,
                f"raise max-bandwidth to {human_rate(raised)} (from {human_rate(cap)}) and downtime-limit to "
                f"{limit_ms} ms (from {settings.downtime_limit_ms}): the guest stops for at most "
                f"{human_ms(limit_ms)}", _at_least(eta),
                Cost(CostRank.STOP, f"a stop of at most {human_ms(limit_ms)}; uses {human_rate(raised)}{of_path}",
                     limit_ms),
                changes=(("max-bandwidth", raised), ("downtime-limit", limit_ms))))
    if settings.avail_switchover_bandwidth is not None:
        eta = max(found.remaining - wanted * limit_s, 0) / bandwidth
        stop = dirty / path.bandwidth * 1000 if path is not None else None
        stop_words = f"a stop of about {human_ms(stop)}" if stop is not None else \
            f"a stop while {human_bytes(dirty)} is sent at the link's full speed"
        actions.append(Action("parameter", "avail-switchover-bandwidth", wanted,
                              f"set avail-switchover-bandwidth to {human_rate(wanted)}: QEMU switches over "
                              "when the dirty set fits at that speed", _at_least(eta),
                              Cost(CostRank.STOP, f"{stop_words} (QEMU lifts the cap for the final copy)",
                                   stop)))
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


def _mib_down(value: float) -> int:
    """Rounded down to whole MiB, two significant digits (what the path carries is not exceeded)."""
    mib = value / (1024 * 1024)
    if mib < 10:
        return max(1, int(mib)) * 1024 * 1024
    step = 10 ** (int(math.log10(mib)) - 1)
    return int(mib // step * step) * 1024 * 1024
