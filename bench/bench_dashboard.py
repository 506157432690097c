"""The dashboard's CPU with 50 migrating VMs, and MIGRATION-event-to-screen latency.

50 lab VMs do not fit on two cores, so their QMP sockets are served by a
replay process: recorded real ``query-migrate`` answers and events of lab
migrations (tests/data/trace-*.jsonl), each VM at its own phase, one
migration after another. The dashboard talks to them through the real
engine (VMSession, VMPoller at 2 Hz while a migration runs, Fleet) and
draws into a real pseudo-terminal (120x40), in a process of its own whose
CPU is measured over a steady window.

Latency: from the moment the engine hands a MIGRATION event to the
dashboard (qemu.qmp has parsed it) until the frame showing the new status in
the VM's fleet-table row has been written to the terminal (for the rows in
view: 50 rows do not fit in 40 lines).

Beside the absolute figures, the dashboard's CPU per sample as a ratio to
the CPU per ``query-migrate`` of the bare qemu.qmp loop on the same VMs
(bench/baseline.py; run before and after the dashboard, the mean of the two
compared), and the time to the first frame with 8 VMs.

Goals: at most 2.5x the bare loop's CPU per sample for 50 VMs, 200 VMs at
2 Hz under 40 % of one core (a second, shorter dashboard run), under 100 ms
event to screen at p99, the first frame with 8 VMs under 1 s. Figures are
printed, each beside its goal and whether this run met it; nothing fails.

    .venv/bin/python bench/bench_dashboard.py [--vms 50] [--seconds 30] [--large 200] [--large-seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import run_bare_loop, run_first_frame  # noqa: E402  (bench/ is no package)

ROOT = Path(__file__).resolve().parent.parent
TRACES = [ROOT / "tests" / "data" / f"trace-{name}.jsonl" for name in ("converging", "not-converging")]
GREETING = {"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "replay"},
                    "capabilities": []}}
IDLE_BETWEEN = 3.0  # seconds a replayed VM rests between two migrations
WARM_UP = 5.0
SIZE = (120, 40)


# -- the replay side: many fake VMs answering from recorded traces ----------

class ReplayVM:
    def __init__(self, trace: Path, phase: float) -> None:
        lines = [json.loads(line) for line in trace.read_text().splitlines()]
        self.settings = lines[0]
        self.samples = [(e["at"], e["answer"]) for e in lines[1:] if e["kind"] == "sample"]
        self.events = [(e["at"], e["event"], e["data"]) for e in lines[1:] if e["kind"] == "event"]
        self.cycle = self.samples[-1][0] + IDLE_BETWEEN
        self.start = time.monotonic() - phase
        self.floor: tuple[int, float] | None = None
        """(cycle, time in it) that query-migrate answers from at least: QEMU
        changes the status before it sends the MIGRATION event, so an answer
        never reads older than the last event sent."""

    def now(self) -> float:
        return (time.monotonic() - self.start) % self.cycle

    def cycle_number(self) -> int:
        return int((time.monotonic() - self.start) // self.cycle)

    def raise_floor(self, event_at: float, status: str | None) -> None:
        later = [at for at, answer in self.samples if at >= event_at and answer.get("status") == status]
        if later:
            self.floor = (self.cycle_number(), later[0])

    def query_migrate(self) -> dict[str, Any]:
        at = self.now()
        if self.floor is not None and self.floor[0] == self.cycle_number():
            at = max(at, self.floor[1])
        answer: dict[str, Any] = {}
        for sample_at, sample in self.samples:
            if sample_at > at:
                break
            answer = sample
        return answer

    def answer(self, command: str) -> Any:
        if command == "query-migrate":
            return self.query_migrate()
        if command == "query-version":
            return GREETING["QMP"]["version"]
        if command == "query-status":
            return {"status": "running", "running": True}
        if command == "query-migrate-parameters":
            return self.settings["parameters"]
        if command == "query-migrate-capabilities":
            return [{"capability": k, "state": v} for k, v in self.settings["capabilities"].items()]
        if command == "query-jobs":
            return []
        return {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(json.dumps(GREETING).encode() + b"\n")
        pump = asyncio.create_task(self.send_events(writer))
        decoder, buffer = json.JSONDecoder(), ""
        try:
            while chunk := await reader.read(65536):
                buffer += chunk.decode()
                while buffer.strip():  # qemu.qmp does not end its requests with a newline
                    try:
                        request, end = decoder.raw_decode(buffer.lstrip())
                    except json.JSONDecodeError:
                        break  # the rest of this request is still on its way
                    buffer = buffer.lstrip()[end:]
                    reply = {"return": self.answer(request.get("execute", ""))}
                    if "id" in request:
                        reply["id"] = request["id"]
                    writer.write(json.dumps(reply).encode() + b"\n")
        except ConnectionError:
            pass
        finally:
            pump.cancel()
            writer.close()

    async def send_events(self, writer: asyncio.StreamWriter) -> None:
        while True:
            at = self.now()
            upcoming = [e for e in self.events if e[0] > at] or [(self.events[0][0] + self.cycle, *self.events[0][1:])]
            when, name, data = upcoming[0]
            await asyncio.sleep(max(0.0, when - at))
            if name == "MIGRATION":
                self.raise_floor(when % self.cycle, data.get("status"))
            wall = time.time()
            event = {"event": name, "data": data,
                     "timestamp": {"seconds": int(wall), "microseconds": int(wall % 1 * 1e6)}}
            writer.write(json.dumps(event).encode() + b"\n")
            await asyncio.sleep(0.001)


async def serve(directory: Path, count: int) -> None:
    servers = []
    for n in range(count):
        vm = ReplayVM(TRACES[n % len(TRACES)], phase=n * 0.61)
        servers.append(await asyncio.start_unix_server(vm.serve, path=str(directory / f"vm{n}.qmp")))
    print("ready", flush=True)
    await asyncio.Event().wait()


# -- the dashboard side, in a pseudo-terminal -------------------------------

def run_engine(directory: Path, count: int, seconds: float, results: Path) -> None:
    """The same fleet without the dashboard, for comparison: what the engine alone costs."""
    from migtui.inventory import VMEntry
    from migtui.qmp.fleet import Fleet

    async def main() -> dict[str, float]:
        entries = [VMEntry(name=f"vm{n}", qmp=str(directory / f"vm{n}.qmp")) for n in range(count)]
        async with Fleet(entries, fast=0.5, slow=5.0) as fleet:
            fleet.subscribe(lambda update: None)
            await asyncio.sleep(WARM_UP)
            cpu, wall = time.process_time(), time.monotonic()
            await asyncio.sleep(seconds)
            return {"cpu": (time.process_time() - cpu) / (time.monotonic() - wall)}

    results.write_text(json.dumps(asyncio.run(main())))


def run_dashboard(directory: Path, count: int, seconds: float, results: Path) -> None:
    from migtui.app import MigtuiApp
    from migtui.inventory import VMEntry
    from migtui.qmp.fleet import Fleet
    from migtui.qmp.updates import EventReceived
    from migtui.screens.fleet import FleetScreen
    from migtui.widgets.fleet_table import FleetTable

    pending: list[tuple[str, str, float]] = []
    frames = [0]
    latencies: list[float] = []
    slow: list[tuple[str, float]] = []

    class MeasuredApp(MigtuiApp):
        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            frames[0] += renderable is not None  # render_update gives None when nothing changed
            if pending and isinstance(self.screen, FleetScreen):
                written = time.perf_counter()
                table = self.screen.query_one(FleetTable)
                in_view = range(int(table.scroll_y), int(table.scroll_y) + table.size.height - 1)
                for item in list(pending):
                    vm, status, arrived = item
                    if table.get_row_index(vm) not in in_view:
                        pending.remove(item)  # a row below the fold is not "on the screen"
                        continue
                    shown = table.get_cell(vm, "status").plain
                    if status.startswith(shown.rstrip("…")) or shown == status:
                        latencies.append(written - arrived)
                        slow.append((status, written - arrived))
                        pending.remove(item)

    def on_update(update: Any) -> None:
        if isinstance(update, EventReceived) and update.event.name == "MIGRATION":
            status = str(update.event.data.get("status"))
            pending[:] = [p for p in pending if p[0] != update.vm]
            pending.append((update.vm, {"postcopy-active": "postcopy"}.get(status, status), time.perf_counter()))

    entries = [VMEntry(name=f"vm{n}", qmp=str(directory / f"vm{n}.qmp")) for n in range(count)]
    fleet = Fleet(entries, fast=0.5, slow=5.0)
    fleet.subscribe(on_update)
    app = MeasuredApp(fleet, theme="migtui-dark")
    figures: dict[str, float] = {}

    async def measure() -> None:
        await asyncio.sleep(WARM_UP)
        latencies.clear()
        slow.clear()
        samples_before = sum(len(s.tracker.history) for s in fleet.states.values())
        cpu, wall, frames_before = time.process_time(), time.monotonic(), frames[0]
        await asyncio.sleep(seconds)
        figures["cpu"] = (time.process_time() - cpu) / (time.monotonic() - wall)
        figures["frames_per_s"] = (frames[0] - frames_before) / (time.monotonic() - wall)
        figures["samples_per_s"] = (sum(len(s.tracker.history) for s in fleet.states.values())
                                    - samples_before) / (time.monotonic() - wall)
        app.exit()

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(measure())
        await app.run_async()
        task.cancel()

    asyncio.run(main())
    figures["latencies"] = latencies  # type: ignore[assignment]
    figures["slow"] = sorted(slow, key=lambda s: -s[1])[:15]  # type: ignore[assignment]
    results.write_text(json.dumps(figures))


def in_terminal(run: Any, directory: Path, count: int, seconds: float, results: Path) -> int:
    """Run ``run`` in a child attached to a new pseudo-terminal; drain its output."""
    pid, master = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("NO_COLOR", None)
        try:
            run(directory, count, seconds, results)
        finally:
            os._exit(0)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    written = 0
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        written += len(chunk)
    os.waitpid(pid, 0)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--large", type=int, default=200, help="VMs of the second run (0: none)")
    parser.add_argument("--large-seconds", type=float, default=15.0)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" and sys.argv[0].endswith(Path(__file__).name)
                             else [])
    if args.serve:
        asyncio.run(serve(args.serve, args.vms))
        return
    with tempfile.TemporaryDirectory(prefix="migtui-bench-", dir="/tmp") as tmp:
        directory = Path(tmp)
        served = max(args.vms, args.large)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(directory), "--vms", str(served)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            results = directory / "results.json"
            # The bare loop runs before and after the dashboard: the machine is shared, and
            # what else runs on it moves either reading; their mean is the one compared.
            in_terminal(run_bare_loop, directory, args.vms, args.seconds, results)
            bare_before = json.loads(results.read_text())
            written = in_terminal(run_dashboard, directory, args.vms, args.seconds, results)
            figures = json.loads(results.read_text())
            in_terminal(run_engine, directory, args.vms, args.seconds, results)
            engine = json.loads(results.read_text())
            in_terminal(run_bare_loop, directory, args.vms, args.seconds, results)
            bare_after = json.loads(results.read_text())
            in_terminal(run_first_frame, directory, min(8, args.vms), 20.0, results)
            first = json.loads(results.read_text())
            large: dict[str, Any] = {}
            if args.large:
                in_terminal(run_dashboard, directory, args.large, args.large_seconds, results)
                large = json.loads(results.read_text())
        finally:
            server.terminate()
            server.wait()
    report(args, figures, engine, (bare_before, bare_after), first, large, written)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(args: argparse.Namespace, figures: dict[str, Any], engine: dict[str, Any],
           bare: tuple[dict[str, Any], dict[str, Any]], first: dict[str, Any], large: dict[str, Any],
           written: int) -> None:
    latencies = sorted(figures["latencies"])
    print(f"dashboard, {args.vms} VMs replaying recorded migrations, fleet screen at {SIZE[0]}x{SIZE[1]}:")
    print(f"  samples taken        {figures['samples_per_s']:.0f}/s (2 Hz a migrating VM)")
    print(f"  CPU of the dashboard {figures['cpu'] * 100:.1f} % of one core")
    print(f"    of which the engine about {engine['cpu'] * 100:.1f} % (the same fleet run without a screen)")
    per_sample = figures["cpu"] / figures["samples_per_s"] * 1e6
    per_queries = [run["cpu"] / run["queries_per_s"] * 1e6 for run in bare]
    per_query = statistics.mean(per_queries)
    ratio = per_sample / per_query
    for when, run, cost in zip(("before", "after"), bare, per_queries):
        print(f"  bare qemu.qmp loop   {run['cpu'] * 100:.1f} % of one core for {run['queries_per_s']:.0f} "
              f"query-migrate/s ({when} the dashboard: {cost:.0f} µs each)")
    print(f"  CPU per sample       dashboard {per_sample:.0f} µs, bare loop {per_query:.0f} µs per query-migrate (mean): "
          f"{ratio:.2f}x   (goal: at most 2.5x: {verdict(ratio <= 2.5)})")
    print(f"    the engine alone   {engine['cpu'] / figures['samples_per_s'] * 1e6 / per_query:.2f}x the bare loop")
    print(f"  terminal output      {written / 1024 / (args.seconds + WARM_UP):.0f} KiB/s, "
          f"{figures['frames_per_s']:.1f} frames/s")
    if latencies:
        p50 = statistics.median(latencies) * 1000
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"  MIGRATION event to screen: median {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms over {len(latencies)} events   (goal: p99 under 100 ms: "
              f"{verdict(p99 < 100)})")
        print("    slowest:", ", ".join(f"{status} {seconds * 1000:.0f} ms" for status, seconds in figures["slow"][:8]))
    else:
        print("  no MIGRATION event seen")
    if large:
        print(f"  {args.large} VMs ({large['samples_per_s']:.0f} samples/s): the dashboard {large['cpu'] * 100:.1f} % "
              f"of one core   (goal: under 40 %: {verdict(large['cpu'] < 0.40)})")
    vms = min(8, args.vms)
    shown = first.get("first_frame", float("nan")) * 1000
    print(f"  first frame with {vms} VMs: {shown:.0f} ms after the start (imports {first['imported'] * 1000:.0f} ms), "
          f"every VM up at {first.get('all_up', float('nan')) * 1000:.0f} ms   (goal: under 1 s: {verdict(shown < 1000)})")

if __name__ == "__main__":
    main()
