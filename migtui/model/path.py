"""What the path from a migration's source to its destination can carry, and how migtui knows it.

More bandwidth is the fix that costs the guest nothing, but only up to what
the path carries: a higher max-bandwidth than the link takes only makes the
passes longer. The figure comes from the best source there is, said with it:

* the same host (loopback, a unix socket): no link, the CPUs copying the
  pages limit it. Until a migration on that host shows more, it is taken at
  QEMU's default cap (128 MiB/s), which migrations between two lab VMs on a
  loaded 2-core machine under TCG exceed (about 170 MiB/s measured);
* the speed of the source's interface toward the destination (``ip route
  get``, ``/sys/class/net/DEV/speed``), or the rate a ``tc`` shaper on it
  allows, whichever is lower;
* a ``link = "10G"`` declared on the source's ``[[host]]``;
* the highest throughput migrations between those two hosts reached while
  this migtui watched them (a floor: the path carried at least that);
* the highest throughput migrations between those two hosts reached before,
  in a recording (:mod:`migtui.record.route_history`): a floor too, but one
  from the past, so it never overrides the interface as probed today.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from migtui.units import human_rate

SAME_HOST_FLOOR = 128 * 1024 * 1024
"""Bytes a second a migration within one host is taken to reach until one shows more."""


SEEN_MARGIN = 1.25
"""A throughput seen must beat the probed figure by this much to replace it: a shaper's burst lets
a second's reading pass the shaped rate by some per cent, which says nothing of the path."""


class PathKind(StrEnum):
    SAME_HOST = "same-host"
    INTERFACE = "interface"
    DECLARED = "declared"
    SEEN = "seen"
    RECORDED = "recorded"


@dataclass(frozen=True)
class RecordedReach:
    """The best throughput recorded migrations between the same two places reached."""

    bandwidth: float
    """Bytes a second: the best median of READINGS readings (:mod:`migtui.model.reached`)."""
    source: str
    """In words: 'migrations from hv1 to 10.0.0.2 reached 180 MiB/s before (recordings)'."""

    def to_json(self) -> dict[str, Any]:
        return {"bandwidth": int(self.bandwidth), "source": self.source}


@dataclass(frozen=True)
class PathCapacity:
    bandwidth: float
    """Bytes a second the path carries, by ``source``."""
    kind: PathKind
    source: str
    """Where the figure comes from, in words: 'eth0 at 10 Gbit/s (/sys/class/net/eth0/speed)'."""
    recorded: RecordedReach | None = None
    """What recorded migrations between the same places reached, said whether or not it is the bound."""

    @property
    def words(self) -> str:
        return f"{human_rate(self.bandwidth)}: {self.source}"

    def to_json(self) -> dict[str, Any]:
        made = {"bandwidth": int(self.bandwidth), "kind": self.kind.value, "source": self.source}
        return made | ({"recorded": self.recorded.to_json()} if self.recorded is not None else {})

    def with_seen(self, best: float | None) -> PathCapacity:
        """The path, knowing a migration between the same hosts reached ``best``: it carries at least that."""
        if best is None or best <= SEEN_MARGIN * self.bandwidth:
            return self
        if self.kind is PathKind.SAME_HOST:
            return replace(self, bandwidth=best, source=f"same host: no link, CPU-bound; migrations here "
                                                        f"reached {human_rate(best)}")
        return PathCapacity(best, PathKind.SEEN, f"migrations between these hosts reached {human_rate(best)} "
                                                  f"(more than {self.source})", self.recorded)


def with_recorded(path: PathCapacity | None, recorded: RecordedReach | None) -> PathCapacity | None:
    """The path, knowing what recorded migrations between the same places reached.

    Like a throughput seen, it is a floor (a past migration carried at least that; its own cap may
    have held it lower), so it replaces a figure only by SEEN_MARGIN. It never replaces an
    interface's speed or shaper as probed now: a recording that beats them is of a path that changed."""
    if recorded is None:
        return path
    if path is None:
        return PathCapacity(recorded.bandwidth, PathKind.RECORDED, recorded.source, recorded)
    if path.kind is PathKind.INTERFACE or recorded.bandwidth <= SEEN_MARGIN * path.bandwidth:
        return replace(path, recorded=recorded)
    if path.kind is PathKind.SAME_HOST:
        return replace(path, bandwidth=recorded.bandwidth, source=f"same host: no link, CPU-bound; {recorded.source}",
                       recorded=recorded)
    return PathCapacity(recorded.bandwidth, PathKind.RECORDED, f"{recorded.source} (more than {path.source})",
                        recorded)


def same_host(how: str) -> PathCapacity:
    """``how``: 'loopback', 'a unix socket'."""
    return PathCapacity(SAME_HOST_FLOOR, PathKind.SAME_HOST,
                        f"same host ({how}): no link, CPU-bound; taken at this until a migration here shows more")


def parse_link(text: str) -> float:
    """Bytes a second of a link speed written as '10G', '2.5G', '100M' (bits a second), or 'NNN' bits."""
    value = text.strip().upper().removesuffix("BIT").removesuffix("B").removesuffix("/S")
    scale = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    factor = 1.0
    if value and value[-1] in scale:
        factor, value = scale[value[-1]], value[:-1]
    try:
        bits = float(value) * factor
    except ValueError:
        raise ValueError(f"a link speed is bits a second like '10G' or '100M', not {text!r}") from None
    if bits <= 0:
        raise ValueError(f"a link speed must be positive, not {text!r}")
    return bits / 8


def tc_rate(line: str) -> float | None:
    """Bytes a second a ``tc qdisc show`` line of a shaper (tbf, htb...) lets through: '... rate 24Mbit burst ...'."""
    words = line.split()
    if "rate" not in words[:-1]:
        return None
    try:
        return parse_link(words[words.index("rate") + 1])
    except ValueError:
        return None
