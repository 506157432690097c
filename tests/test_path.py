"""What the path of a migration carries: its figure and where it came from, read on this machine."""

from __future__ import annotations

import pytest

from migtui.host_entry import HostEntry
from migtui.model.path import PathKind, parse_link, same_host, tc_rate
from migtui.qmp.path_probe import probe, run_here


def test_link_speeds_are_bits_a_second_and_bad_ones_are_refused_in_words() -> None:
    assert parse_link("10G") == 10e9 / 8 and parse_link("100M") == 100e6 / 8 and parse_link("24Mbit") == 3e6
    with pytest.raises(ValueError, match="like '10G'"):
        parse_link("fast")
    with pytest.raises(ValueError, match="link"):
        HostEntry(name="hv1", ssh="root@hv1", link="ten gig")


def test_a_tc_shaper_line_gives_its_rate() -> None:
    assert tc_rate("qdisc tbf 8001: root refcnt 2 rate 24Mbit burst 4Kb lat 400ms") == 3e6
    assert tc_rate("qdisc noqueue 0: root refcnt 2") is None


async def test_a_destination_on_this_host_is_the_same_host_limited_by_cpu() -> None:
    for uri in ("tcp:127.0.0.1:4444", "unix:/run/x.sock"):
        found = await probe(uri, run_here)
        assert found is not None and found.kind is PathKind.SAME_HOST and "CPU" in found.source
    # The machine's own address routes through lo as well.
    assert (await probe("tcp:localhost:1", run_here)) == same_host("loopback")


async def test_a_declared_link_is_the_figure_where_the_interface_says_nothing() -> None:
    host = HostEntry(name="hv1", ssh="root@hv1", link="10G")
    found = await probe(None, run_here, host)
    assert found is not None and found.kind is PathKind.DECLARED and found.bandwidth == 10e9 / 8
    assert 'link = "10G"' in found.source


def test_a_faster_migration_seen_raises_what_the_path_is_taken_to_carry() -> None:
    path = same_host("loopback")
    assert path.with_seen(None) is path and path.with_seen(path.bandwidth / 2) is path
    raised = path.with_seen(path.bandwidth * 2)
    assert raised.bandwidth == path.bandwidth * 2 and "reached" in raised.source


def test_what_recordings_reached_is_said_and_bounds_the_path_only_where_today_knows_less() -> None:
    from migtui.model.path import PathCapacity, RecordedReach, with_recorded

    fast = RecordedReach(400e6, "migrations from hv1 to 10.0.0.2 reached 381.5 MiB/s before (recordings: ...)")
    slow = RecordedReach(20e6, "migrations from hv1 to 10.0.0.2 reached 19.1 MiB/s before (recordings: ...)")
    # Nothing known today: the recording is the path's figure.
    alone = with_recorded(None, fast)
    assert alone is not None and alone.kind is PathKind.RECORDED and alone.bandwidth == 400e6
    assert alone.to_json()["recorded"] == {"bandwidth": 400_000_000, "source": fast.source}
    # A same-host guess is raised by more, and keeps its figure (said beside it) against less.
    raised = with_recorded(same_host("loopback"), fast)
    assert raised is not None and raised.bandwidth == 400e6 and fast.source in raised.source
    kept = with_recorded(same_host("loopback"), slow)
    assert kept is not None and kept.bandwidth == same_host("loopback").bandwidth and kept.recorded == slow
    # An interface as probed now is today's path: a faster past is of a path that changed.
    shaped = PathCapacity(3e6, PathKind.INTERFACE, "eth0 toward 10.0.0.2 shaped by tc to 24Mbit")
    today = with_recorded(shaped, fast)
    assert today is not None and today.bandwidth == 3e6 and today.kind is PathKind.INTERFACE
    assert today.recorded == fast and today.with_seen(None).recorded == fast


def test_a_bandwidth_check_waits_two_passes_then_says_enough_or_not_with_what_next() -> None:
    from migtui.model.bandwidth_check import Now, check_bandwidth

    mib = 1 << 20
    watching = check_bandwidth(160 * mib, 5, 16 * mib, Now("active", 6, 16 * mib, 150 * mib, 0.1, False, None))
    assert watching.enough is None and "(1 of 2 passes)" in watching.words
    # QEMU sends the new cap and the set fits it: enough, with how far the dirty set fell.
    fell = check_bandwidth(160 * mib, 5, 16 * mib, Now("active", 7, int(6.4 * mib), 150 * mib, 0.1, True, None))
    assert fell.enough is True and fell.words == "max-bandwidth 160.0 MiB/s: enough (the dirty set fell 60% in 2 passes)"
    # The link carries less than the cap: the set does not fit at what QEMU really sends.
    short = check_bandwidth(160 * mib, 5, 16 * mib, Now("active", 7, 16 * mib, 12 * mib, 0.1, False,
                                                        "downtime-limit 1700 ms (guest stops ≤ 1.7 s)"))
    assert short.enough is False and short.words == (
        "max-bandwidth 160.0 MiB/s: not enough: the working set is still dirty at 160.0 MiB/s (16.0 MiB a pass, "
        "QEMU sends 12.0 MiB/s); next: downtime-limit 1700 ms (guest stops ≤ 1.7 s)")
    # The switchover's own sync is no pass.
    done = check_bandwidth(160 * mib, 5, 16 * mib, Now("completed", 7, None, None, 0.1, None, None))
    assert done.enough is True and done.passes == 1 and "completed 1 pass after it" in done.words
    # Switched to postcopy first: not known, for good (a postcopy always completes, which proves nothing).
    switched = check_bandwidth(160 * mib, 5, 16 * mib, Now("postcopy-active", 6, None, None, 0.1, None, None))
    assert switched.enough is None and switched.settled and "switched to postcopy first" in switched.words
    assert not watching.settled and fell.settled and short.settled
    # Converging by the model while the set neither fell nor fits: said as the model's word, not as a fit.
    model = check_bandwidth(160 * mib, 5, 16 * mib, Now("active", 7, 16 * mib, 100 * mib, 0.1, True, None))
    assert model.enough is True and model.words.endswith("enough (the model now sees it converge)")


def test_a_libvirt_migration_is_known_by_its_destinations_address() -> None:
    from migtui.qmp.path_probe import destination_of

    assert destination_of("tcp:198.51.100.2:49152") == "198.51.100.2"
    assert destination_of("tcp://198.51.100.2:49152") == "198.51.100.2"  # libvirt's migrate_uri
    assert destination_of("qemu+tcp://198.51.100.2/system") == "198.51.100.2"  # libvirt's dconnuri
    assert destination_of("unix:/run/x.sock") == "unix" and destination_of(None) == "?"


async def test_a_history_file_that_is_missing_or_no_recording_only_leaves_its_figure_out(tmp_path) -> None:
    from migtui.qmp.path_history import PathHistory

    garbage = tmp_path / "notes.db"
    garbage.write_text("not a recording")
    history = PathHistory([tmp_path / "missing.db", garbage])
    assert await history.reach("hv1", "10.0.0.2") is None
    assert await history.reach("hv1", "?") is None  # a migration another tool started: no route to look up
