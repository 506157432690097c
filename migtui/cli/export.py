"""``migtui export --listen ADDR``: the fleet's migration figures for Prometheus."""

from __future__ import annotations

import argparse
import sys

from migtui.cli.common import add_inventory_options, add_safety_options, gate_from_args, inventory_from_args
from migtui.cli.until_stopped import until_stopped
from migtui.errors import UsageError
from migtui.metrics.server import DEFAULT_LISTEN, MetricsServer
from migtui.qmp.fleet import Fleet


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export", help="serve Prometheus metrics of every VM's migration",
        description="Serve OpenMetrics on http://ADDR/metrics: remaining and sent bytes, dirty rate, "
                    "throughput, passes, downtime, throttle, prediction, link state, outcomes.")
    parser.add_argument("--listen", metavar="ADDR", default=DEFAULT_LISTEN,
                        help=f"address to serve on (default {DEFAULT_LISTEN}; port 0 picks a free one)")
    add_inventory_options(parser)
    parser.add_argument("--interval", type=float, metavar="S",
                        help="seconds between samples of every VM (default: 0.5 while migrating, 5 idle)")
    add_safety_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be positive")
    inventory = inventory_from_args(args)
    pace = {"fast": args.interval, "slow": args.interval} if args.interval else {}
    fleet = Fleet(inventory.vm, gate_from_args(args, inventory), hosts=inventory.host, **pace)
    async with MetricsServer(fleet, args.listen) as server, fleet:
        print(f"serving metrics on http://{server.host}:{server.port}/metrics", file=sys.stderr, flush=True)
        await until_stopped()
    return 0
