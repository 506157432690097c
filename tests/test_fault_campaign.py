"""A fault campaign: faults in turn, and what must still hold after each.

Real QEMU for what QEMU can be made to do (a source or destination killed
mid-migration, a QEMU stopped for longer than the command timeout); the
scripted QMP server for the rest (a socket closed mid-reply, a reply with an
unknown id, a 1 MiB event, invalid JSON, 10,000 events in a second).

After each fault: the dashboard (Pilot) and a ``migtui watch --json``
subprocess are still running, the bystander VM is still sampled at its rate
by both, the faulty VM's state says what happened, the histories stay within
their bounds, and at the end nothing is left running. The outcomes are
printed as a table at the end of the test run ("fault campaign").
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fake_qmp import FakeQMPServer, event
from migtui.app import MigtuiApp
from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.model.vm_state import VMState
from migtui.qmp.errors import CommandTimeout
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.updates import Update, VMChanged
from migtui.screens.error import ErrorScreen
from migtui.widgets.figures import clock
from waiting import settle, until

pytestmark = pytest.mark.qemu
MiB = 1 << 20
INTERVAL = 0.2
"""Seconds between two samples of a VM, in the dashboard and in watch."""
COMMAND_TIMEOUT = 1.0
RATE_SHARE = 0.4
"""Share of the nominal sample rate the bystander must keep (2 cores, TCG guests beside)."""
BYSTANDER = "vm2"


class Watch:
    """``migtui watch --json`` in a subprocess; its lines collected with their arrival time."""

    def __init__(self, vms: dict[str, Path], stderr: Path) -> None:
        self.vms = vms
        self.stderr_path = stderr
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Watch":
        argv = [sys.executable, "-m", "migtui", "watch", "--json", "--interval", str(INTERVAL)]
        for name, path in self.vms.items():
            argv += ["--vm", f"{name}={path}"]
        with self.stderr_path.open("wb") as stderr:  # a file: a pipe nobody reads would block watch
            self.process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=stderr,
                                                                limit=4 * MiB)  # lines of 1 MiB events
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        await asyncio.wait_for(self.process.wait(), 20)
        assert self._reader is not None
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append((time.monotonic(), json.loads(line)))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def since(self, t0: float, vm: str, key: str | None = None) -> list[dict[str, Any]]:
        return [line for at, line in self.lines if at >= t0 and line["vm"] == vm and (key is None or key in line)]

    def rss_mib(self) -> float:
        assert self.process is not None
        return rss_mib(self.process.pid)


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of a process (tracemalloc would slow the dashboard down several times)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


class Campaign:
    """One dashboard and one watch, the faults run one after the other."""

    def __init__(self, app: MigtuiApp, watch: Watch, pilot: Any, table: list[tuple[str, ...]]) -> None:
        self.app = app
        self.watch = watch
        self.pilot = pilot
        self.table = table
        self.links: list[tuple[str, str, str | None]] = []
        app.fleet.subscribe(self._on_update)

    def _on_update(self, update: Update) -> None:
        if isinstance(update, VMChanged) and update.aspect == "link":
            state = self.app.fleet.states[update.vm]
            self.links.append((update.vm, state.link, state.link_error))

    def state(self, vm: str) -> VMState:
        return self.app.fleet.states[vm]

    async def outcome(self, fault: str, t0: float, said: Callable[[], str | None], timeout: float = 30,
                      watch_saw: Callable[[], bool] = lambda: True, memory: str = "") -> str:
        """Wait until the faulty VM's state says what happened; check the rest holds; add the row."""
        told: list[str] = []

        def settled() -> bool:
            text = said()
            if text and watch_saw():
                told.append(text)
                return True
            return False

        try:
            await settle(self.pilot, settled, timeout, f"the state after {fault!r} (and watch's lines)")
        except AssertionError as failed:
            counts = {vm: len(self.watch.since(t0, vm)) for vm in self.app.fleet.states}
            raise AssertionError(f"{failed}; links: {self.links[-4:]}; watch lines since: {counts}, "
                                 f"last {self.watch.lines[-1][0] - t0:.1f} s after") from None
        app_ok = self.app.is_running and not any(isinstance(s, ErrorScreen) for s in self.app.screen_stack)
        assert app_ok, "the dashboard stopped or shows an error screen"
        assert self.watch.running, f"watch ended: {self.watch.stderr_path.read_text()[-2000:]}"
        handled = time.monotonic()
        history = self.state(BYSTANDER).tracker.history
        during = len([s for s in history if t0 <= s.at <= handled]) / max(handled - t0, 1e-3)
        app_rate, watch_rate = await self.bystander_rates(handled)
        for state in self.app.fleet.states.values():  # every history within its bound
            assert len(state.events) <= state.events.capacity and len(state.tracker.history) <= state.tracker.history.capacity
        for session in self.app.fleet.sessions.values():
            assert not session._client.events._history  # qemu.qmp's own event history is drained
        bystander = f"{app_rate:.1f}/s, {watch_rate:.1f}/s"
        if handled - t0 >= 0.5:  # shorter windows hold a sample or two: no rate to speak of
            bystander += f" ({during:.1f}/s in the dashboard while it lasted)"
        self.table.append((fault, told[0], "running", "running", bystander, memory or "bounded"))
        return told[0]

    async def bystander_rates(self, t0: float) -> tuple[float, float]:
        """Samples per second of the bystander since ``t0`` (the fault handled), in the dashboard and in watch."""
        history = self.state(BYSTANDER).tracker.history
        await settle(self.pilot, lambda: len([s for s in history if s.at >= t0]) >= 5
                     and len(self.watch.since(t0, BYSTANDER, "sample")) >= 5, 20, "the bystander's samples")
        elapsed = time.monotonic() - t0
        app_rate = len([s for s in history if s.at >= t0]) / elapsed
        watch_rate = len(self.watch.since(t0, BYSTANDER, "sample")) / elapsed
        nominal = 1 / INTERVAL
        assert app_rate >= RATE_SHARE * nominal, f"the dashboard sampled {BYSTANDER} at {app_rate:.1f}/s"
        assert watch_rate >= RATE_SHARE * nominal, f"watch sampled {BYSTANDER} at {watch_rate:.1f}/s"
        return app_rate, watch_rate


def our_tasks() -> list[str]:
    """Sessions', pollers' and event pumps' tasks still alive."""
    return sorted(task.get_name() for task in asyncio.all_tasks()
                  if not task.done() and task.get_name().endswith(("-poll", "-link", "-events", "-busy")))


async def migrating(campaign: Campaign, lab: Lab) -> None:
    """Start vm1 -> vm1-dst, capped low enough never to converge; return once it is active."""
    fleet = campaign.app.fleet
    await settle(campaign.pilot, lambda: campaign.state("vm1-dst").link == "connected"
                 and campaign.state("vm1-dst").run_state == "inmigrate", 30, "vm1-dst waiting")
    await start_migration(fleet.session("vm1"), fleet.session("vm1-dst"),
                          MigrationPlan({"max-bandwidth": 4 * MiB, "downtime-limit": 10}))
    await settle(campaign.pilot, lambda: (s := campaign.state("vm1").latest) is not None and s.status == "active"
                 and s.info.ram is not None, 30, "vm1 migrating")


async def test_faults_real_qemu_can_produce(lab: Lab, lab_dir: Path, ctl, fault_table) -> None:
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=32, dirty_rate_mib_s=float("inf"))
    dst = await lab.start_destination("vm1-dst", like=src)
    bystander = await lab.start_source(BYSTANDER, mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)  # zero pages would migrate at once
    # The dashboard on the VMs' QMP sockets; watch on the second (ctl) socket of the VMs
    # the lab never restarts (the lab checks a restarted destination on its ctl socket).
    entries = [VMEntry(name=vm.name, qmp=str(vm.qmp_path)) for vm in (src, dst, bystander)]
    fleet = Fleet(entries, fast=INTERVAL, slow=INTERVAL, command_timeout=COMMAND_TIMEOUT)
    app = MigtuiApp(fleet, theme="migtui-dark")
    async with Watch({"vm1": src.ctl_path, BYSTANDER: bystander.ctl_path}, lab_dir / "watch.err") as watch:
        async with app.run_test(size=(120, 40)) as pilot:
            campaign = Campaign(app, watch, pilot, fault_table)
            await settle(pilot, lambda: all(s.link == "connected" for s in fleet.states.values()), 20, "all connected")

            await migrating(campaign, lab)
            t0 = time.monotonic()
            await lab.kill("vm1-dst")

            def source_failed() -> str | None:
                sample, dst_state = campaign.state("vm1").latest, campaign.state("vm1-dst")
                if sample is None or sample.status != "failed" or not any(
                        vm == "vm1-dst" and link == "disconnected" for vm, link, _ in campaign.links):
                    return None
                return f"vm1: migration failed ({sample.info.error_desc}); vm1-dst went down"

            await campaign.outcome("kill -9 the destination mid-migration", t0, source_failed,
                                   watch_saw=lambda: any(l["sample"]["status"] == "failed"
                                                         for l in watch.since(t0, "vm1", "sample")))

            t0 = time.monotonic()
            os.kill(src.pid, signal.SIGSTOP)
            try:
                with pytest.raises(CommandTimeout, match=f"no answer from QEMU within {COMMAND_TIMEOUT:g} s"):
                    await fleet.session("vm1").execute("query-status")
                await settle(pilot, lambda: campaign.state("vm1").busy and watch.since(t0, "vm1", "busy"), 20,
                             "vm1 shown busy")
                stopped_for = time.monotonic() - t0
                busy_line = watch.since(t0, "vm1", "busy")[0]["busy"]
            finally:
                os.kill(src.pid, signal.SIGCONT)
            resumed = time.monotonic()

            def answered_again() -> str | None:
                state = campaign.state("vm1")
                fresh = state.latest is not None and state.latest.at > resumed
                if state.busy or state.link != "connected" or not fresh:
                    return None
                return f"vm1 busy ({busy_line}), link kept, sampled again after SIGCONT"

            await campaign.outcome(f"SIGSTOP vm1 {stopped_for:.1f} s (> {COMMAND_TIMEOUT:g} s timeout), SIGCONT",
                                   t0, answered_again,
                                   watch_saw=lambda: bool(watch.since(resumed, "vm1", "sample")))

            await migrating(campaign, lab)
            t0 = time.monotonic()
            await lab.kill("vm1")

            def source_down() -> str | None:
                state = campaign.state("vm1")
                if not state.stale or state.migrating_out or "0 migrating" not in app.screen.sub_title:
                    return None
                return f"vm1 {state.link} ({state.link_error}); figures last seen {clock(state.latest.wall)}"

            def watch_told() -> bool:
                return any("last_seen" in line and line["last_seen"]["sample"]["status"] == "active"
                           for line in watch.since(t0, "vm1", "link"))

            await campaign.outcome("kill -9 the source mid-migration", t0, source_down, watch_saw=watch_told)
        assert our_tasks() == []
    assert "Traceback" not in (lab_dir / "watch.err").read_text()


async def test_faults_only_a_scripted_server_can_produce(lab: Lab, lab_dir: Path, fault_table) -> None:
    bystander = await lab.start_source(BYSTANDER, mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    names = ("cut", "stray", "big", "badjson", "flood")
    servers = {name: FakeQMPServer(lab_dir / f"{name}.sock", "serve") for name in names}
    for server in servers.values():
        await server.__aenter__()
    try:
        entries = [VMEntry(name=BYSTANDER, qmp=str(bystander.qmp_path))]
        entries += [VMEntry(name=name, qmp=str(server.path)) for name, server in servers.items()]
        fleet = Fleet(entries, fast=INTERVAL, slow=INTERVAL, command_timeout=COMMAND_TIMEOUT)
        app = MigtuiApp(fleet, theme="migtui-dark")
        watched = {BYSTANDER: bystander.ctl_path, **{name: server.path for name, server in servers.items()}}
        async with Watch(watched, lab_dir / "watch.err") as watch:
            async with app.run_test(size=(120, 40)) as pilot:
                campaign = Campaign(app, watch, pilot, fault_table)
                await settle(pilot, lambda: all(s.link == "connected" for s in fleet.states.values())
                             and all(watch.since(0, vm, "sample") for vm in watched), 20, "all connected")
                await scripted_faults(campaign, servers)
            assert our_tasks() == []
    finally:
        for server in servers.values():
            await server.__aexit__(None, None, None)
    assert "Traceback" not in (lab_dir / "watch.err").read_text()


def dropped_and_back(campaign: Campaign, vm: str, t0_links: int) -> str | None:
    """'link lost (why), reconnected' once ``vm`` went down and came back after the fault."""
    after = [(link, error) for name, link, error in campaign.links[t0_links:] if name == vm]
    down = next((error for link, error in after if link == "disconnected"), None)
    if down is None or campaign.state(vm).link != "connected":
        return None
    return f"link lost ({down}), reconnected"


def watch_dropped_and_back(watch: Watch, vm: str, t0: float) -> bool:
    told = [line["link"] for line in watch.since(t0, vm, "link")]
    return any(t.startswith("disconnected") for t in told) and any(t == "connected" for t in told)


async def scripted_faults(campaign: Campaign, servers: dict[str, FakeQMPServer]) -> None:
    watch = campaign.watch

    t0, links = time.monotonic(), len(campaign.links)
    servers["cut"].cut_next("query-migrate")  # the dashboard's and watch's next one
    await campaign.outcome("QMP socket closed mid-reply", t0, lambda: dropped_and_back(campaign, "cut", links),
                           watch_saw=lambda: watch_dropped_and_back(watch, "cut", t0))

    t0, links = time.monotonic(), len(campaign.links)
    await servers["stray"].send(b'{"return": {}, "id": "nobody-asked"}\n')
    stray = campaign.state("stray")

    def ignored() -> str | None:
        # Replies are read in order: a sample answered after the stray one means it was read (and dropped).
        if not [s for s in stray.tracker.history if s.at > t0] or campaign.links[links:] or stray.poll_error:
            return None
        return "ignored: still connected, no error, sampled on"

    await campaign.outcome("reply with an unknown id", t0, ignored,
                           watch_saw=lambda: bool(watch.since(t0, "stray", "sample"))
                           and not watch.since(t0, "stray", "link"))

    t0, app_before, watch_before = time.monotonic(), rss_mib(), watch.rss_mib()
    await servers["big"].send(event("VENDOR_BIG", pad=MiB))
    big = campaign.state("big")

    def kept_big() -> str | None:
        latest = big.events.latest
        if latest is None or latest.name != "VENDOR_BIG" or big.link != "connected":
            return None
        return f"event received whole ({len(latest.data['filler']) // 1024} KiB), link kept"

    await campaign.outcome("a 1 MiB event", t0, kept_big,
                           watch_saw=lambda: any(l.get("event") == "VENDOR_BIG" for l in watch.since(t0, "big")),
                           memory=f"RSS {rss_mib() - app_before:+.0f} MiB app, {watch.rss_mib() - watch_before:+.0f} MiB watch")

    t0, links = time.monotonic(), len(campaign.links)
    await servers["badjson"].send(b'{"event": "STOP", this is not JSON}\n')
    await campaign.outcome("invalid JSON", t0, lambda: dropped_and_back(campaign, "badjson", links),
                           watch_saw=lambda: watch_dropped_and_back(watch, "badjson", t0))

    flood = campaign.state("flood")
    flood_events = b"".join(event("FLOOD", {"n": n}) for n in range(10_000))
    t0, app_before, watch_before = time.monotonic(), rss_mib(), watch.rss_mib()
    await servers["flood"].send(flood_events)
    handled: list[float] = []

    def all_arrived() -> str | None:
        latest = flood.events.latest
        if latest is None or latest.data.get("n") != 9_999:
            return None
        handled[:] = handled or [time.monotonic() - t0]
        return f"all 10,000 handled in {handled[0]:.1f} s; {len(flood.events)} kept (bound {flood.events.capacity})"

    await campaign.outcome("10,000 events in a second", t0, all_arrived, timeout=60,
                           watch_saw=lambda: any(l.get("data", {}).get("n") == 9_999 for l in watch.since(t0, "flood")))
    app_grew, watch_grew = rss_mib() - app_before, watch.rss_mib() - watch_before
    assert len(flood.events) == flood.events.capacity
    assert app_grew < 64 and watch_grew < 64, f"resident memory grew {app_grew:.0f} MiB (app), {watch_grew:.0f} MiB (watch)"
    campaign.table[-1] = (*campaign.table[-1][:-1], f"RSS {app_grew:+.0f} MiB app, {watch_grew:+.0f} MiB watch")
