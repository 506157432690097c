"""The process that owns a detached lab: ``python -m migtui.lab.supervisor DIR``.

Started by ``migtui lab up``; it starts the VMs, writes ``inventory.toml``
and the state file, restarts destinations that exit (the Lab does that),
and stops every QEMU on SIGTERM or SIGINT. Its QEMUs die with it even when it
is killed with SIGKILL (PDEATHSIG). With ``--libvirt`` it runs a lab of
libvirt hosts instead (see libvirt_lab.py), whose hosts' holders end every
process of their host, libvirtd's QEMUs too, when it dies.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
from pathlib import Path

from migtui.lab.errors import LabError
from migtui.lab.hosts import HostLab
from migtui.lab.lab import Lab
from migtui.lab.libvirt_lab import LibvirtLab
from migtui.lab.state import INVENTORY_FILE, PID_FILE, write_state


def parse_values(text: str, what: str) -> list[float]:
    """``"32"`` or ``"16,32,64"``; ``max`` or ``inf`` for as fast as possible."""
    values = []
    for item in text.split(","):
        item = item.strip().lower()
        try:
            value = math.inf if item in ("max", "inf") else float(item)
        except ValueError:
            raise LabError(f"{what}: {item!r} is not a number (or 'max')") from None
        if value < 0 or math.isnan(value):
            raise LabError(f"{what}: {item!r} must be 0 or more")
        values.append(value)
    return values


def spread(values: list[float], n: int, what: str) -> list[float]:
    """One value for all N VMs, or exactly N values."""
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise LabError(f"{what}: {len(values)} values for {n} VMs (give one, or one per VM)")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m migtui.lab.supervisor")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--vms", type=int, default=3)
    parser.add_argument("--mem", type=int, default=128)
    parser.add_argument("--dirty-mib", default="32")
    parser.add_argument("--dirty-rate", default="64")
    parser.add_argument("--disk", action="store_true")
    parser.add_argument("--hosts", type=int, default=0, help="0: no hosts, VMs on this machine")
    parser.add_argument("--vms-per-host", type=int, default=1)
    parser.add_argument("--link", default=None, help="tc tbf rate of each host's link")
    parser.add_argument("--libvirt", action="store_true", help="libvirt hosts, with --vms-per-host domains each")
    parser.add_argument("--transport", choices=("ssh", "tcp"), default="ssh",
                        help="with --libvirt: the inventory's libvirt URIs")
    return parser


async def supervise(args: argparse.Namespace) -> int:
    directory: Path = args.directory.resolve()
    count = args.hosts * args.vms_per_host if args.hosts else args.vms
    sizes = spread(parse_values(args.dirty_mib, "--dirty-mib"), count, "--dirty-mib")
    rates = spread(parse_values(args.dirty_rate, "--dirty-rate"), count, "--dirty-rate")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    if args.libvirt:
        return await supervise_libvirt(args, directory, sizes, rates, stop)
    ready = False  # true once every VM runs and the inventory is written
    lab: Lab | HostLab = HostLab(directory, link_rate=args.link) if args.hosts else Lab(directory)
    def hosts() -> list[dict[str, object]] | None:
        return lab.state() if isinstance(lab, HostLab) else None

    lab.on_change = lambda _vm: write_state(directory, lab.vms.values(), ready=ready and not stop.is_set(),
                                            hosts=hosts())
    async with lab:
        try:
            if isinstance(lab, HostLab):
                await lab.up(args.hosts, args.vms_per_host, args.mem, sizes, rates, args.disk)
            else:
                await lab.up(args.vms, args.mem, sizes, rates, args.disk)
        except LabError as error:
            write_state(directory, lab.vms.values(), ready=False, error=str(error), hosts=hosts())
            print(f"migtui lab: {error}", file=sys.stderr, flush=True)
            return 1
        lab.write_inventory(directory / INVENTORY_FILE)
        ready = True
        write_state(directory, lab.vms.values(), ready=True, hosts=hosts())
        on = f" on {args.hosts} hosts" if args.hosts else ""
        print(f"migtui lab: {len(lab.vms)} VMs running{on} in {directory}", flush=True)
        await stop.wait()
        print("migtui lab: stopping", flush=True)
    write_state(directory, lab.vms.values(), ready=False)
    return 0


async def supervise_libvirt(args: argparse.Namespace, directory: Path, sizes: list[float], rates: list[float],
                            stop: asyncio.Event) -> int:
    """A lab of ``args.hosts`` libvirt hosts with ``args.vms_per_host`` running domains each."""
    async with LibvirtLab(directory, link_rate=args.link) as lab:
        try:
            placed = await lab.up(args.hosts, args.vms_per_host, args.mem, sizes, rates)
        except LabError as error:
            write_state(directory, [], ready=False, error=str(error), hosts=lab.state())
            print(f"migtui lab: {error}", file=sys.stderr, flush=True)
            return 1
        lab.write_inventory(directory / INVENTORY_FILE, transport=args.transport)
        write_state(directory, [], ready=True, hosts=lab.state())
        print(f"migtui lab: {len(placed)} domains running on {args.hosts} libvirt hosts in {directory}", flush=True)
        await stop.wait()
        print("migtui lab: stopping", flush=True)
    write_state(directory, [], ready=False, hosts=lab.state())
    return 0


def main() -> int:
    args = build_parser().parse_args()
    pid_file = args.directory / PID_FILE
    pid_file.write_text(f"{os.getpid()}\n")
    try:
        return asyncio.run(supervise(args))
    except LabError as error:
        print(f"migtui lab: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        pid_file.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
