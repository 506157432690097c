"""``migtui record --db FILE``: record the fleet headless (cron, systemd), optionally serving metrics."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from migtui.alerts.engine import AlertEngine
from migtui.alerts.rule import AlertRule
from migtui.cli.common import add_inventory_options, add_safety_options, gate_from_args, inventory_from_args, seconds
from migtui.cli.until_stopped import until_stopped
from migtui.errors import UsageError
from migtui.qmp.fleet import Fleet
from migtui.record.retention import parse_duration
from migtui.record.schema import RecordingError
from migtui.record.writer import FLUSH_EVERY, Recorder


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "record", help="record every VM's samples, events and changes into a SQLite file",
        description="Record the fleet headless: samples, QMP events, link changes, predictions and audit "
                    "entries, written once a second. Stops on SIGTERM or Ctrl-C. See docs/recording.md.")
    parser.add_argument("--db", metavar="FILE", type=Path, required=True, help="the recording (created if new)")
    add_inventory_options(parser)
    add_recording_options(parser, with_db=False)
    parser.add_argument("--interval", type=float, metavar="S",
                        help="seconds between samples of every VM (default: 0.5 while migrating, 5 idle)")
    parser.add_argument("--duration", type=seconds, metavar="S", help="stop after S seconds")
    add_safety_options(parser)
    parser.set_defaults(func=run)


def add_recording_options(parser: argparse.ArgumentParser, with_db: bool = True) -> None:
    """``--record``/``--retention``/``--export`` as the dashboard and the recorder take them."""
    group = parser.add_argument_group("recording and metrics")
    if with_db:
        group.add_argument("--record", metavar="FILE", type=Path, help="also record into this SQLite file")
    group.add_argument("--retention", metavar="AGE", help="delete what is older than AGE (48h, 7d; default: keep)")
    group.add_argument("--export", metavar="ADDR", help="also serve Prometheus metrics on ADDR (127.0.0.1:9778)")


async def start_recording(stack: AsyncExitStack, fleet: Fleet, path: Path | None, retention: str | None,
                          export: str | None, flush_every: float = FLUSH_EVERY) -> Recorder | None:
    """Attach a recorder and a metrics server to ``fleet`` as asked; ``stack`` closes them."""
    keep = parse_duration(retention) if retention else None
    if keep and not path:
        raise UsageError("--retention applies to a recording: give --record FILE too")
    recorder = None
    if path is not None:
        recorder = await stack.enter_async_context(Recorder(path, fleet, retention=keep, flush_every=flush_every))
        fleet.paths.history.add(path)  # its past migrations tell what the paths carried
    if export:
        from migtui.metrics.server import MetricsServer  # prometheus-client only when asked for

        server = await stack.enter_async_context(MetricsServer(fleet, export))
        print(f"serving metrics on http://{server.host}:{server.port}/metrics", file=sys.stderr, flush=True)
    return recorder


async def start_alerts(stack: AsyncExitStack, fleet: Fleet, rules: Sequence[AlertRule],
                       log: Callable[[str], None]) -> AlertEngine | None:
    """Watch the inventory's ``[[alert]]`` rules on ``fleet``; ``stack`` stops them (and kills their commands)."""
    if not rules:
        return None
    return await stack.enter_async_context(AlertEngine(fleet, rules, log=log))


def log_line(line: str) -> None:
    print(f"migtui: {line}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> int:
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be positive")
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    pace = {"fast": args.interval, "slow": args.interval} if args.interval else {}
    async with AsyncExitStack() as stack:
        fleet = Fleet(inventory.vm, gate, hosts=inventory.host, history=inventory.settings.history, **pace)
        recorder = await start_recording(stack, fleet, args.db, args.retention, args.export)
        assert recorder is not None
        await start_alerts(stack, fleet, inventory.alert, log_line)
        await stack.enter_async_context(fleet)
        print(f"recording {len(fleet.states)} VM(s) into {args.db}", file=sys.stderr, flush=True)
        await until_stopped(recorder.failed, duration=args.duration)
        if recorder.error:
            raise RecordingError(recorder.error)
    return 0
