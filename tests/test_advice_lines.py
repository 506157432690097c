"""A script following ``migrate --wait`` or ``watch`` is told the advice again when it changes, not when
its figure moves with the samples."""

from __future__ import annotations

from migtui.cli.lines import AdviceChanges
from migtui.model.advice import Action
from migtui.model.convergence import Prediction, Verdict


def advising(*actions: tuple[str, int]) -> Prediction:
    return Prediction(Verdict.NOT_CONVERGING, "will not converge at current settings",
                      actions=[Action("parameter", name, value, f"raise {name} to {value}", 10.0)
                               for name, value in actions])


def test_a_limit_that_jitters_is_told_once_and_a_real_change_again() -> None:
    changes = AdviceChanges()
    # As measured from migrate --wait on a stuck migration: 610, 650, 640, 650 ms, then far more.
    told = [changes.changed("vm1", advising(("downtime-limit", ms))) for ms in (610, 650, 640, 650, 900)]
    assert told == [True, False, False, False, True]


def test_another_action_or_verdict_is_told_at_once() -> None:
    changes = AdviceChanges()
    assert changes.changed("vm1", advising(("downtime-limit", 600)))
    assert changes.changed("vm1", advising(("downtime-limit", 600), ("max-bandwidth", 64 << 20)))
    assert changes.changed("vm1", Prediction(Verdict.CONVERGING, "converges in about 5 s", 5.0))
    assert not changes.changed("vm2", Prediction(Verdict.IDLE, "no migration"))  # nothing to tell yet
