"""Samples, histories and the migration tracker, on hand-made query-migrate answers."""

import pytest

from migtui.model.history import History
from migtui.model.sample import MigrationInfo, Sample
from migtui.model.tracker import MigrationTracker

MiB = 1 << 20


def answer(status="active", remaining=100 * MiB, total=256 * MiB, syncs=1, pages_rate=0, mbps=800.0, **extra):
    ram = {"transferred": total - remaining, "remaining": remaining, "total": total, "duplicate": 0,
           "skipped": 0, "normal": 0, "normal-bytes": 0, "dirty-pages-rate": pages_rate, "mbps": mbps,
           "dirty-sync-count": syncs, "postcopy-requests": 0, "page-size": 4096}
    return {"status": status, "ram": ram, **extra}


def test_empty_answer_means_no_migration():
    info = MigrationInfo.parse({})
    assert info.status == "none" and info.ram is None


def test_unknown_members_are_kept_not_fatal():
    info = MigrationInfo.parse(answer(**{"future-field": 7}))
    assert info.extras() == {"future-field": 7}
    assert info.to_json()["future-field"] == 7
    assert info.to_json()["ram"]["dirty-pages-rate"] == 0


def test_derived_rates_are_bytes_per_second():
    sample = Sample(vm="a", at=0, wall=0, info=MigrationInfo.parse(answer(pages_rate=2560, mbps=80.0)))
    assert sample.dirty_rate == 2560 * 4096  # 10 MiB/s
    assert sample.throughput == 10_000_000  # 80 megabits/s


def test_progress_never_runs_backwards_across_passes():
    tracker = MigrationTracker("a")
    figures = [tracker.add(answer(remaining=r, syncs=s), at=t).progress
               for t, (r, s) in enumerate([(200 * MiB, 1), (64 * MiB, 1), (150 * MiB, 2), (20 * MiB, 3)])]
    assert figures == sorted(figures)
    assert figures[-1] == pytest.approx(1 - 20 / 256)
    assert tracker.add(answer(status="completed", remaining=0), at=9).progress == 1.0


def test_a_new_migration_starts_from_zero():
    tracker = MigrationTracker("a")
    tracker.add(answer(remaining=10 * MiB), at=0)
    tracker.add(answer(status="completed", remaining=0), at=1)
    again = tracker.add(answer(status="active", remaining=250 * MiB), at=2)
    assert tracker.migration_count == 2
    assert again.progress == pytest.approx(6 / 256)


def test_a_stall_is_noticed_when_passes_do_not_shrink_the_rest():
    tracker = MigrationTracker("a")
    for t, sync in enumerate(range(1, 8)):
        tracker.add(answer(remaining=(256 if sync == 1 else 176) * MiB, syncs=sync), at=t)
        assert tracker.stalled == (sync >= 6)


def test_a_converging_migration_is_no_stall():
    tracker = MigrationTracker("a")
    for t, sync in enumerate(range(1, 10)):
        tracker.add(answer(remaining=int(256 * MiB / 2 ** sync), syncs=sync), at=t)
    assert not tracker.stalled


def test_history_is_bounded_and_refuses_time_going_back():
    history = History(capacity=3)
    for t in range(5):
        history.append(Sample(vm="a", at=t, wall=t, info=MigrationInfo()))
    assert [s.at for s in history] == [2, 3, 4]
    assert [s.at for s in history.window(1)] == [3, 4]
    with pytest.raises(ValueError, match="backwards"):
        history.append(Sample(vm="a", at=1, wall=1, info=MigrationInfo()))


def test_a_cancelling_migration_is_not_predicted_to_converge():
    from migtui.model.convergence import Verdict, predict

    tracker = MigrationTracker("a")
    tracker.add(answer(remaining=100 * MiB, syncs=3, pages_rate=100), at=0)
    sample = tracker.add(answer(status="cancelling", remaining=1 * MiB, syncs=3, pages_rate=100), at=1)
    prediction = predict([sample])
    assert prediction.verdict is Verdict.FINISHED and prediction.summary == "cancelling"


def test_a_zero_downtime_limit_never_converges_and_does_not_crash():
    from migtui.model.convergence import MigrationSettings, Verdict, predict

    tracker = MigrationTracker("a")
    samples = [tracker.add(answer(remaining=r * MiB, syncs=s, pages_rate=256, mbps=800.0), at=s)
               for s, r in ((2, 100), (3, 60), (4, 40))]
    prediction = predict(samples, MigrationSettings(downtime_limit_ms=0))
    assert prediction.verdict is Verdict.NOT_CONVERGING


def test_a_dirty_set_that_fits_the_downtime_limit_converges_whatever_the_dirty_rate_reads():
    from migtui.model.convergence import Verdict, judge
    from migtui.model.estimate import Estimate, MigrationSettings
    # 2.9 MiB a pass at 32 MiB/s needs 90 ms: QEMU switches over at the next sync under a 100 ms limit,
    # even though the dirty rate reads as high as the throughput (a small set rewritten fast).
    found = Estimate(bandwidth=32 * MiB, remaining=2 * MiB, dirty_rate=31 * MiB,
                     dirty_sets=[int(2.9 * MiB), int(2.9 * MiB)], pass_start=int(2.9 * MiB))
    assert judge(found, MigrationSettings(downtime_limit_ms=100), stalled=False).verdict is Verdict.CONVERGING
    assert judge(found, MigrationSettings(downtime_limit_ms=80), stalled=False).verdict is Verdict.NOT_CONVERGING


def test_an_active_migration_whose_counters_stand_still_is_frozen_for_that_long():
    from migtui.model.tracker import MigrationTracker

    tracker = MigrationTracker("vm")
    ram = {"total": 100, "remaining": 60}
    tracker.add({"status": "active", "ram": {**ram, "transferred": 40}}, at=10.0)
    tracker.add({"status": "active", "ram": {**ram, "transferred": 40}}, at=13.0)
    assert tracker.frozen_for(14.5) == 4.5
    tracker.add({"status": "active", "ram": {**ram, "transferred": 41}}, at=15.0)
    assert tracker.frozen_for(15.0) == 0.0
    tracker.add({"status": "completed", "ram": {**ram, "transferred": 100}}, at=16.0)
    assert tracker.frozen_for(30.0) == 0.0
    # Paused before switchover on purpose (pause-before-switchover): waiting, not frozen.
    paused = MigrationTracker("vm")
    paused.add({"status": "pre-switchover", "ram": {**ram, "transferred": 40}}, at=10.0)
    paused.add({"status": "pre-switchover", "ram": {**ram, "transferred": 40}}, at=20.0)
    assert paused.frozen_for(25.0) == 0.0


def postcopy_run(state, status, start, end, sent, moving, every=0.3):
    """Samples of ``state`` from ``start`` to ``end`` s, every ``every`` s, as QEMU 7.2 answers in a postcopy
    capped at 2 MiB/s: ``sent`` bytes so far, rising (``moving``) or standing still; returns the bytes sent."""
    at = start
    while at <= end + 1e-9:
        if moving:
            sent += int(2 * MiB * every)
        ram = answer(status=status, remaining=max(0, 120 * MiB - sent), total=128 * MiB, syncs=3, mbps=16.8)["ram"]
        ram.update({"transferred": sent, "postcopy-requests": sent // (4 * MiB), "pages-per-second": 512,
                    "precopy-bytes": 90 * MiB, "postcopy-bytes": max(0, sent - 90 * MiB)})
        state.tracker.add({"status": status, "ram": ram, "total-time": int(at * 1000)}, at=at)
        at = round(at + every, 3)
    return sent


def test_a_postcopy_whose_stream_stands_still_is_the_emergency_until_it_moves_again():
    from migtui.model.convergence import NO_PROGRESS_AFTER, Verdict, predict
    from migtui.model.vm_state import PREDICTION_WINDOW, VMState

    state = VMState("vm1")
    sent = postcopy_run(state, "active", 0.0, 3.0, 90 * MiB, moving=True)
    sent = postcopy_run(state, "postcopy-active", 3.3, 8.1, sent, moving=True)
    assert state.prediction().verdict is Verdict.POSTCOPY and state.tracker.frozen_for(8.1) == 0
    # The link goes down: QEMU still says postcopy-active, its bytes sent stand still.
    postcopy_run(state, "postcopy-active", 8.4, 8.1 + NO_PROGRESS_AFTER - 0.2, sent, moving=False)
    assert state.prediction().verdict is Verdict.POSTCOPY  # not yet: a pause this short is no sign
    postcopy_run(state, "postcopy-active", 13.2, 14.1, sent, moving=False)
    told = state.prediction()
    assert told.verdict is Verdict.POSTCOPY_STALLED
    assert told.summary == ("EMERGENCY: postcopy stalled: nothing sent for 6 s; the guest on the destination "
                            "waits for its memory")
    assert any("migtui pause VM" in reason and "migtui recover VM" in reason for reason in told.reasons)
    assert told.actions == []  # no setting helps
    assert told.to_json()["verdict"] == "postcopy-stalled"
    # Longer than the prediction's window of samples: the tracker's count goes on.
    postcopy_run(state, "postcopy-active", 14.4, 8.1 + PREDICTION_WINDOW + 12, sent, moving=False)
    assert state.prediction().summary.startswith("EMERGENCY: postcopy stalled: nothing sent for 42 s")
    samples = state.tracker.history.window(PREDICTION_WINDOW)  # a recording read back: the window's own count
    assert predict(samples).verdict is Verdict.POSTCOPY_STALLED
    # The link is back: the stream moves, the warning goes at the first sample that shows it.
    sent = postcopy_run(state, "postcopy-active", 50.4, 50.4, sent, moving=True)
    assert state.prediction().verdict is Verdict.POSTCOPY and state.tracker.frozen_for(50.4) == 0


def test_a_postcopy_paused_or_seen_from_its_destination_is_not_called_stalled():
    from migtui.model.convergence import Verdict
    from migtui.model.vm_state import VMState

    source = VMState("vm1")
    sent = postcopy_run(source, "postcopy-active", 0.0, 2.0, 100 * MiB, moving=True)
    postcopy_run(source, "postcopy-paused", 2.3, 20.0, sent, moving=False)  # its own status says it
    assert source.prediction().verdict is Verdict.POSTCOPY_PAUSED and source.tracker.frozen_for(20.0) == 0
    postcopy_run(source, "postcopy-recover", 20.3, 21.0, sent, moving=False)
    postcopy_run(source, "postcopy-active", 21.3, 25.0, sent, moving=False)  # resumed: a new count from here
    assert source.prediction().verdict is Verdict.POSTCOPY
    destination = VMState("vm1-dst")  # an incoming postcopy has no RAM figures: nothing to read
    for at in range(20):
        destination.tracker.add({"status": "postcopy-active"}, at=float(at))
    assert destination.prediction().verdict is Verdict.POSTCOPY and destination.tracker.frozen_for(19.0) == 0
