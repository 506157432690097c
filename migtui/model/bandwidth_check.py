"""Whether a bandwidth action taken was enough, said within two passes of taking it.

More bandwidth is offered on a figure QEMU cannot fully see: a guest that
rewrites a working set faster than QEMU sends it makes QEMU's dirty rate
read about the bandwidth, so its true rate is unknown and the action's
promise is a bet (its worst case is the whole set still dirty at the new
bandwidth). Passes tell how the bet went: the pass during which the action
was taken ran partly at the old bandwidth, the next one wholly at the new,
and its dirty set is read when the pass after it starts. So two passes after
the action the dirty set at the new bandwidth is known, and migtui says:

* enough: the migration completed, or the model now sees it converge (what
  a pass dirties shrinks, or fits bandwidth x downtime-limit), with how far
  the dirty set fell;
* not enough: it still will not converge; the dirty set at the new
  bandwidth and what QEMU really sends (a path that carries less than the
  cap shows here), and the next action the advice offers now.

Both need a few throughput readings since the action: passes shorter than a
poll (a small set at a high bandwidth) end before them, and are told at the
end ("completed N passes after it", QEMU's count less its switchover sync).
Once said, a check stays as it was said: a later action that works does not
make this one have been enough. The downtime-limit needs no such check: its
effect is QEMU's own switchover rule, which the model computes exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migtui.units import human_bytes, human_rate

PASSES = 2
"""Passes after the action by which its effect is known: one wholly at the new bandwidth, read at the next start."""


@dataclass(frozen=True)
class BandwidthCheck:
    enough: bool | None
    """True: it worked; False: it did not; None: not known yet (or the migration ended otherwise)."""
    words: str
    """What a user reads: 'max-bandwidth 160 MiB/s: enough (the dirty set fell 60% in 2 passes)'."""
    passes: int
    """Passes since the action was taken."""
    ended_first: bool = False
    """The migration ended, or switched to postcopy, before this could be told: it stays not known."""

    @property
    def settled(self) -> bool:
        """Said for good: enough or not, or never to be known."""
        return self.enough is not None or self.ended_first

    def to_json(self) -> dict[str, Any]:
        return {"enough": self.enough, "words": self.words, "passes": self.passes}


@dataclass(frozen=True)
class Now:
    """What the migration shows now, as the check reads it."""

    status: str
    passes: int
    """QEMU's dirty-sync-count."""
    dirty_set: int | None
    """What the newest pass started with: the guest's dirt during the pass before."""
    sending: float | None
    """Bytes a second QEMU sent since the action (median; None: too few readings since)."""
    limit_s: float
    """The downtime limit now."""
    converging: bool | None
    """The model's verdict now: True converging, False will not, None measuring."""
    next_action: str | None
    """The cheapest action offered now, in a few words."""


def check_bandwidth(bandwidth: int, taken_pass: int, dirty_before: int | None, now: Now) -> BandwidthCheck:
    """How a ``max-bandwidth`` of ``bandwidth`` taken during pass ``taken_pass``, when the guest dirtied
    ``dirty_before`` a pass, is doing by ``now``."""
    label = f"max-bandwidth {human_rate(bandwidth)}"
    after = max(now.passes - taken_pass, 0)
    passes = f"{after} pass{'es' if after != 1 else ''}"
    if now.status == "completed":
        # QEMU syncs once more to switch over: that last dirty-sync-count is the stop, not a pass.
        after = max(after - 1, 0)
        passes = f"{after} pass{'es' if after != 1 else ''}"
        return BandwidthCheck(True, f"{label}: enough (the migration completed {passes} after it)", after)
    if now.status in ("failed", "cancelled", "cancelling") or now.status.startswith("postcopy"):
        ended = "switched to postcopy" if now.status.startswith("postcopy") else now.status
        return BandwidthCheck(None, f"{label}: not known (the migration {ended} first)", after, ended_first=True)
    # QEMU's own rule on the figures since the action: the model's bandwidth is a median over seconds
    # that may still hold readings from before it, so it alone would call a short pass too slow.
    fits = now.dirty_set is not None and now.sending is not None and now.dirty_set <= now.sending * now.limit_s
    if after < PASSES or now.sending is None or (now.converging is None and not fits):
        return BandwidthCheck(None, f"{label}: watching whether it is enough ({after} of {PASSES} passes)", after)
    fell = 1 - now.dirty_set / dirty_before if now.dirty_set is not None and dirty_before else None
    if now.converging or fits:
        how = (f"the dirty set fell {fell:.0%} in {passes}" if fell is not None and fell > 0 else
               "what a pass dirties now fits the downtime limit" if fits else "the model now sees it converge")
        return BandwidthCheck(True, f"{label}: enough ({how})", after)
    still = f"{human_bytes(now.dirty_set)} a pass" if now.dirty_set is not None else "as much as before"
    sent = f", QEMU sends {human_rate(now.sending)}"
    following = f"; next: {now.next_action}" if now.next_action else "; no setting offered converges now"
    return BandwidthCheck(False, f"{label}: not enough: the working set is still dirty at {human_rate(bandwidth)} "
                                 f"({still}{sent}){following}", after)
