"""The prediction against real migrations: verdicts, advice followed, ETAs.

A matrix of lab migrations (working set, dirty rate, bandwidth cap,
downtime limit), each run to completion or a timeout:

* verdict accuracy: the verdict 10 s in (or the last before an earlier end)
  against what the migration did when left alone;
* advice: in a migration of its own, each advised action is taken alone;
  the share that completed the migration within twice the action's ETA;
* ETA error: for migrations that converged alone, |predicted - real| / real
  of the remaining time, from the first "converging" verdict.

Goals: verdicts >= 95 % right, advice followed >= 95 % completing, median
ETA error <= 20 %. Prints figures; ``make bench`` runs it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

from migtui.lab import Lab
from migtui.lab.trial import Scenario, run_trial
from migtui.model.convergence import Verdict

MATRIX = [
    Scenario("a1", 32, 8, 16, 100), Scenario("a2", 24, 4, 16, 300), Scenario("a3", 16, 10, 32, 100),
    Scenario("a4", 48, 12, 32, 50), Scenario("b1", 48, 100, 16, 100), Scenario("b2", 24, 40, 16, 300),
    Scenario("b3", 64, 200, 32, 100), Scenario("b4", 16, 100, 8, 200), Scenario("c1", 32, 8, 16, 5),
    Scenario("c2", 8, 100, 32, 10), Scenario("d1", 48, 100, 16, 100, capabilities={"postcopy-ram": True}),
    Scenario("d2", 32, 64, 16, 100, capabilities={"auto-converge": True}),
]
TIMEOUT = 45.0


async def main() -> None:
    verdicts_right, followed, completed, eta_errors = 0, 0, 0, []
    with tempfile.TemporaryDirectory(prefix="bench-advice-", dir="/tmp") as folder:
        async with Lab(Path(folder)) as lab:
            for scenario in MATRIX:
                alone = await run_trial(lab, scenario, timeout=TIMEOUT)
                converged = alone.status == "completed"
                said = alone.verdict_at(10.0)
                right = (said is Verdict.CONVERGING) == converged
                verdicts_right += right
                line = f"{scenario.name}: alone {alone.status:9} verdict@10s {said.value:14} {'ok' if right else 'WRONG'}"
                first = next(((at, p) for at, p in alone.predictions if p.verdict is Verdict.CONVERGING), None)
                if converged and first and first[1].eta_seconds:
                    real = alone.ended_at - first[0]
                    eta_errors.append(abs(first[1].eta_seconds - real) / max(real, 1.0))
                    line += f"  eta {first[1].eta_seconds:.1f} s, real {real:.1f} s"
                print(line, flush=True)
                if converged:
                    continue
                advice = next((p for at, p in alone.predictions if p.verdict is Verdict.NOT_CONVERGING and p.actions
                               and at > 3), None)
                for action in advice.actions if advice else []:
                    trial = await run_trial(lab, scenario, timeout=TIMEOUT, follow=action.name)
                    took = trial.took_after_following
                    ok = trial.status == "completed" and trial.followed is not None and took is not None \
                        and took <= 2 * trial.followed.eta_s
                    followed += 1
                    completed += ok
                    eta = trial.followed.eta_s if trial.followed else None
                    print(f"    follow {action.name:24} {trial.status:9} took {took} (eta {eta}) {'ok' if ok else 'FAILED'}",
                          flush=True)
    print(f"verdicts right at 10 s: {verdicts_right}/{len(MATRIX)} = {verdicts_right / len(MATRIX):.0%} (goal >= 95 %)")
    if followed:
        print(f"advice followed that completed within 2x its ETA: {completed}/{followed} = "
              f"{completed / followed:.0%} (goal >= 95 %)")
    if eta_errors:
        ordered = sorted(eta_errors)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        print(f"ETA error on converging migrations: median {statistics.median(ordered):.0%}, p90 {p90:.0%} "
              f"(goal: median <= 20 %)")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
