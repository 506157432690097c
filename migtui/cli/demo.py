"""``migtui demo``: a lab of real QEMU VMs, the dashboard on it, migrations running.

Three sources, each with a destination waiting with ``-incoming defer``,
and a migration started on each as soon as the dashboard is up, so the
charts move at once:

* ``web-1`` converges quickly (a small working set, a gentle dirty rate);
* ``db-1`` needs many passes (it dirties 5/6 of what QEMU may send);
* ``batch-1`` will not converge without help (it dirties faster than the
  16 MiB/s QEMU may send, with a 50 ms downtime limit). postcopy-ram is on
  for it: switch it to postcopy (``p``), or cancel it (``c``).

Run as root, the VMs are on two hosts of a lab of hosts (network
namespaces with their own sshd, QMP over SSH) and each migrates from one
host to the other; otherwise all are on this machine.

With ``--libvirt`` (root only) the three are domains of the first of two
libvirt hosts (each its own libvirtd in network namespaces, reached over
qemu+ssh), and each migrates to the other host through libvirt.

Quitting the dashboard stops every QEMU of the lab and removes its
directory. The QEMUs also die with this process whatever ends it (the lab
starts them with PR_SET_PDEATHSIG), and SIGTERM or SIGHUP (a closed SSH
session) quit the dashboard the normal way, as does a terminal that goes
away with no signal sent (:mod:`migtui.terminal_driver`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migtui.errors import UsageError
from migtui.inventory import Inventory, load_inventory
from migtui.qmp.audit import AuditLog
from migtui.qmp.gate import CommandGate

if TYPE_CHECKING:
    from migtui.qmp.migration import MigrationPlan
    from migtui.qmp.session import VMSession

MIB = 1024 * 1024
CONNECT_TIMEOUT = 15.0


@dataclass(frozen=True)
class DemoVM:
    name: str
    dirty_mib: float
    dirty_rate_mib_s: float
    parameters: dict[str, Any]
    capabilities: dict[str, bool] = field(default_factory=dict)
    story: str = ""


DEMO_VMS = (
    # Zero pages cost QEMU next to nothing: what is sent is about the dirtied range.
    DemoVM("web-1", 16, 2, {"max-bandwidth": 4 * MIB, "downtime-limit": 300},
           story="converges in a few passes"),
    DemoVM("db-1", 64, 5, {"max-bandwidth": 6 * MIB, "downtime-limit": 300},
           story="needs many passes"),
    DemoVM("batch-1", 64, 24, {"max-bandwidth": 16 * MIB, "downtime-limit": 50}, {"postcopy-ram": True},
           story="will not converge without help"),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="start a lab of QEMU VMs, open the dashboard on it, start migrations",
        description="Start three small QEMU VMs (128 MiB) with a waiting destination each, open the "
                    "dashboard and start a migration on each: one converges quickly, one needs many "
                    "passes, one will not converge without help. Quitting stops every VM.")
    parser.add_argument("--dir", type=Path, metavar="DIR",
                        help="lab directory (default: a new one under /tmp, removed on exit)")
    parser.add_argument("--no-migrate", action="store_true", help="start the VMs but no migration")
    parser.add_argument("--one-host", action="store_true",
                        help="as root too, keep every VM on this machine (no lab of hosts)")
    parser.add_argument("--libvirt", action="store_true",
                        help="root only: the VMs are libvirt domains of two lab libvirt hosts, migrated through "
                             "libvirt")
    parser.add_argument("--theme", metavar="NAME", help="dashboard theme (see `migtui dashboard --help`)")
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    from migtui.app import MigtuiApp  # Textual only for the commands that show it
    from migtui.preferences import PreferenceFile
    from migtui.qmp.fleet import Fleet

    made_dir = args.dir is None
    directory = Path(tempfile.mkdtemp(prefix="migtui-demo-", dir="/tmp")) if made_dir else args.dir
    try:
        if args.libvirt and os.geteuid() != 0:
            raise UsageError("demo --libvirt runs libvirt hosts in network namespaces: run it as root")
        lab = libvirt_demo_lab(directory) if args.libvirt else demo_lab(
            directory, hosts=os.geteuid() == 0 and not args.one_host)
        async with lab as inventory:
            gate = CommandGate(AuditLog(inventory.audit_path))
            # The admin's own dashboard choices (theme, sort, chart window): the demo is the dashboard.
            app = MigtuiApp(Fleet(inventory.vm, gate, hosts=inventory.host), theme=args.theme,
                            preferences=PreferenceFile())
            with _quit_on_signals(app):
                starter = None if args.no_migrate else asyncio.create_task(_start_migrations(app))
                try:
                    await app.run_async()
                finally:
                    if starter is not None:
                        starter.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await starter
            print("migtui demo: stopping the lab's VMs ...", file=sys.stderr)
    finally:
        if made_dir:
            shutil.rmtree(directory, ignore_errors=True)
    return app.return_code or 0


@contextlib.asynccontextmanager
async def demo_lab(directory: Path, hosts: bool) -> AsyncIterator[Inventory]:
    """The demo's VMs running (on two lab hosts, source and destination apart, with ``hosts``); their inventory."""
    from migtui.lab import Lab
    from migtui.lab.hosts import HostLab

    count = 2 * len(DEMO_VMS)
    async with contextlib.AsyncExitStack() as stack:
        if hosts:
            print(f"migtui demo: running as root: {count} QEMU VMs on 2 hosts (network namespaces with their "
                  f"own sshd, QMP over SSH) in {directory} ...", file=sys.stderr)
            host_lab = await stack.enter_async_context(HostLab(directory))
            pair = [host.lab for host in await host_lab.start_hosts(2)]
            labs = [(pair[k % 2], pair[(k + 1) % 2]) for k in range(len(DEMO_VMS))]
            writer: Lab | HostLab = host_lab
        else:
            print(f"migtui demo: starting {count} QEMU VMs in {directory} ...", file=sys.stderr)
            lab = await stack.enter_async_context(Lab(directory))
            labs, writer = [(lab, lab)] * len(DEMO_VMS), lab
        for vm, (here, there) in zip(DEMO_VMS, labs, strict=True):
            # A qcow2 disk each, so that the snapshots screen (n) has somewhere to save to.
            source = await here.start_source(vm.name, mem_mib=128, dirty_mib=vm.dirty_mib,
                                             dirty_rate_mib_s=vm.dirty_rate_mib_s, disk=True)
            await there.start_destination(f"{vm.name}-dst", like=source)
        yield load_inventory(writer.write_inventory(directory / "inventory.toml"))


@contextlib.asynccontextmanager
async def libvirt_demo_lab(directory: Path) -> AsyncIterator[Inventory]:
    """The demo's VMs as domains of lab libvirt host hv1 (hv2 waits for them); their inventory."""
    from migtui.lab.libvirt_lab import LibvirtLab

    print(f"migtui demo: running as root: {len(DEMO_VMS)} libvirt domains on 2 libvirt hosts (network "
          f"namespaces with their own libvirtd and sshd, qemu+ssh) in {directory} ...", file=sys.stderr)
    async with LibvirtLab(directory) as lab:
        await lab.start_hosts(2)
        for vm in DEMO_VMS:
            await lab.define_domain("hv1", vm.name, mem_mib=128, dirty_mib=vm.dirty_mib,
                                    dirty_rate_mib_s=vm.dirty_rate_mib_s)
        yield load_inventory(lab.write_inventory(directory / "inventory.toml", transport="ssh"))


async def _start(source: VMSession, target: VMSession | str, plan: MigrationPlan) -> str:
    from migtui.ops import migrate

    return await migrate.start(source, target, plan)


async def _start_migrations(app: Any) -> None:
    """Start each demo migration once both of its VMs answer; say so on screen."""
    from migtui.qmp.migration import MigrationPlan

    fleet = app.fleet
    if fleet.domains is not None:  # libvirt: the domains are VMs once their hosts listed them
        await fleet.domains.wait_listed(CONNECT_TIMEOUT)
    await fleet.wait_connected(CONNECT_TIMEOUT)
    for vm in DEMO_VMS:
        libvirt = fleet.domains is not None
        destination = "hv2" if libvirt else f"{vm.name}-dst"
        plan = MigrationPlan(dict(vm.parameters), dict(vm.capabilities))
        try:
            target = destination if libvirt else fleet.session(destination)
            await fleet.change(vm.name, partial(_start, target=target, plan=plan),
                               also=[] if libvirt else [destination])
        except Exception as error:  # shown, not fatal: the dashboard stays useful
            app.show_error(error, f"demo: migrating {vm.name}")
            continue
        app.add_mark(vm.name, "demo start")
        app.notify(f"{vm.name} → {destination}: {vm.story}", title="demo", timeout=6)


@contextlib.contextmanager
def _quit_on_signals(app: Any) -> Iterator[None]:
    """SIGTERM and SIGHUP end the dashboard like `q` does, so the lab is torn down."""
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, app.exit)
            handled.append(signum)
    try:
        yield
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
