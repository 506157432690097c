"""A postcopy between two lab hosts whose stream is killed on the link, recovered with ``migtui recover``.

Issue 23's test on a lab link: the stream from hv1 to hv2 is cut with
``ss -K`` inside hv1 (tests/postcopy_split.py says why that fault and not a
link down); ``migtui watch`` shows both sides ``postcopy-paused`` and the
emergency; ``migtui recover vm1`` makes the destination listen again at
hv2's address on the link (not loopback: hv1 could not reach it there) and
the source resume to it; the guest ends running on hv2, its counter going on
from where it was.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import pytest

from cli_process import exit_code, read_line, run_cli, started_cli
from postcopy_split import POSTCOPY_PARAMETERS, SplitLab, first_pass_over, kill_stream, wait_status
from postcopy_split import split_lab  # noqa: F401 - the module's fixture
from waiting import until_true

pytestmark = pytest.mark.qemu

PAUSED = "postcopy-paused"


async def watch_until_both_paused(config: str, timeout: float) -> dict[str, str]:
    """``migtui watch`` until it has said vm1 and vm1-dst are postcopy-paused and told vm1's advice;
    returns those lines (watch holds the QMP sockets: it is stopped before anything else connects)."""
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with started_cli("watch", "--interval", "0.3", "--config", config, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL) as watch:
        while not ("vm1" in seen and "vm1-dst" in seen and "advice" in seen):
            line = await read_line(watch.stdout, max(0.1, deadline - time.monotonic()))
            fields = line.split()
            if len(fields) >= 3 and fields[2] == PAUSED:
                seen[fields[1]] = line
            elif fields[1:3] == ["vm1", "advice:"] and "EMERGENCY" in line:
                seen["advice"] = line
        watch.send_signal(signal.SIGINT)
        assert await exit_code(watch, 30) in (0, 130)
    return seen


async def test_a_postcopy_killed_on_the_lab_link_is_shown_split_and_migtui_recover_completes_it(split_lab: SplitLab,
                                                                                                  ctl) -> None:
    lab, hv1, hv2 = split_lab.lab, split_lab.source_host, split_lab.destination_host
    config = str(lab.directory / "inventory.toml")
    async with ctl(split_lab.source) as source:
        await source.wait_guest(passes=1, timeout=60)
    settings = [arg for name, value in POSTCOPY_PARAMETERS.items() for arg in ("--set", f"{name}={value >> 20}M")]
    code, _, err = await run_cli("migrate", "vm1", "vm1-dst", "--config", config, "--cap", "postcopy-ram=on",
                                 *settings, timeout=90)
    assert code == 0, err
    first = re.search(rf"tcp:{re.escape(hv2.address)}:(\d+)", err)
    assert first, f"the stream does not go to hv2's address on the link: {err}"
    async with ctl(split_lab.source) as source, ctl(split_lab.destination) as destination:
        await first_pass_over(source)
        code, _, err = await run_cli("postcopy", "vm1", "--config", config, "--yes", timeout=60)
        assert code == 0, err
        await wait_status(destination, "postcopy-active", 30, "postcopy on the destination")
        await destination.wait_guest(ticks=await destination.guest_ticks() + 5, timeout=30)  # it runs on hv2 now
        ticks_before, passes_before = await destination.guest_ticks(), await destination.guest_passes()
        await kill_stream(hv1, hv2, first.group(1))
        await wait_status(source, PAUSED, 30, "the source to pause")
        await wait_status(destination, PAUSED, 30, "the destination to pause")
    told = await watch_until_both_paused(config, 60)
    assert "split between two hosts" in told["advice"], told

    started = time.monotonic()
    code, out, err = await run_cli("recover", "vm1", "--config", config, "--yes", timeout=90)
    assert code == 0, err
    resumed = re.fullmatch(rf"vm1: postcopy resumed to vm1-dst \(tcp:{re.escape(hv2.address)}:(\d+)\)\n", out)
    assert resumed, out  # hv2's address on the link, where hv1 reaches it
    async with ctl(split_lab.source) as source, ctl(split_lab.destination) as destination:
        # Let the rest of the memory come at full speed: the test waits for the end, not for the cap.
        await source.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})
        await wait_status(destination, "completed", 120, "the recovered postcopy to complete on hv2")
        recovered_in = time.monotonic() - started
        assert (await destination.execute("query-status"))["status"] == "running"
        # Memory intact: the guest's counters go on from where they were, on hv2.
        await destination.wait_guest(ticks=ticks_before + 20, passes=passes_before + 1, timeout=60)

        async def source_completed() -> bool:  # the source says so a moment after the destination runs
            return (await source.execute("query-migrate")).get("status") == "completed"

        await until_true(source_completed, 30, "the source to say completed")
    audit = [json.loads(line) for line in (lab.directory / "audit.jsonl").read_text().splitlines()]
    recovery = [entry for entry in audit if entry["command"] in ("migrate-recover", "migrate")][-2:]
    assert [(entry["vm"], entry["command"]) for entry in recovery] == [("vm1-dst", "migrate-recover"),
                                                                       ("vm1", "migrate")]
    assert recovery[1]["arguments"] == {"uri": f"tcp:{hv2.address}:{resumed.group(1)}", "resume": True}
    print(f"recovered: recover to completed in {recovered_in:.1f} s")
