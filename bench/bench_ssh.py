"""QMP over SSH against a local socket: round trip and CPU per sample (root only).

A lab of 2 hosts (migtui.lab.hosts); the figures are taken by a child process
inside the lab's admin namespace, with an ssh_config that connects straight
to the hosts (no ProxyCommand: its pipe would be a cost no real site pays).
First one VM, the same QEMU both ways:
its lab ``ctl`` socket read directly, and its QMP socket reached through the
host's sshd (asyncssh, one connection, a direct stream read by qemu.qmp);
``query-migrate`` in a loop, one after the other in one run. Then the fleet
engine with 2 hosts x 8 VMs at 10 Hz, once on the local ctl sockets, once
over SSH. Goal, for the fleet: at most 1.5x the local CPU per sample. The
one-VM loop is the worst case, printed beside it: back to back, a command
shares no TCP segment and no wakeup with another, so all of asyncssh's work
per packet shows.

Each round also reads the same fleet through OpenSSH's own client
(``openssh_forwards.py``: a ControlMaster per host, packets made in C), its
ssh processes' CPU counted with the fleet's: what SSH costs here whichever
client makes the packets.

The source VMs are paused first: QMP answers a paused VM just the same,
and eight guests running under TCG on two cores would otherwise take turns
with the process measured and spread its figures by a third from one
window to the next.
"""

from __future__ import annotations

import asyncio
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


from migtui.inventory import VMEntry, load_inventory
from migtui.lab.control import ControlClient
from migtui.lab.hosts import HostLab
from migtui.qmp.client import Client, Streams
from migtui.qmp.fleet import Fleet
from migtui.qmp.hosts import HostPool
from migtui.qmp.updates import SampleTaken
from openssh_forwards import OpenSSHForwards

ROUND_TRIPS = 1000
ROUNDS = 5
FLEET_SECONDS = 8.0
FLEET_INTERVAL = 0.1


def cpu() -> Cpu:
    """This process's CPU so far, in user space and in the kernel."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Cpu(usage.ru_utime, usage.ru_stime)


@dataclass(frozen=True)
class Cpu:
    user: float
    kernel: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.user - other.user, self.kernel - other.kernel)

    def per(self, count: int) -> Cpu:
        return Cpu(self.user / max(count, 1), self.kernel / max(count, 1))

    @property
    def total(self) -> float:
        return self.user + self.kernel


async def loop(client: Client, target: str | Streams, count: int) -> tuple[float, Cpu]:
    """(median round trip s, CPU per sample) of ``count`` query-migrate, with migtui's client."""
    await client.connect(target)  # type: ignore[arg-type]
    try:
        times = []
        start = cpu()
        for _ in range(count):
            t = time.perf_counter()
            await client.execute("query-migrate")
            times.append(time.perf_counter() - t)
        return statistics.median(times), (cpu() - start).per(count)
    finally:
        await client.disconnect()


async def fleet_cpu(entries: list[VMEntry], hosts: list, others: Callable[[], float] = lambda: 0.0
                    ) -> tuple[Cpu, float, int]:
    """(this process's CPU per sample, ``others``' CPU seconds per sample, samples) of the fleet."""
    fleet = Fleet(entries, fast=FLEET_INTERVAL, slow=FLEET_INTERVAL, hosts=hosts)
    taken = 0

    def count(update: object) -> None:
        nonlocal taken
        if isinstance(update, SampleTaken):
            taken += 1

    fleet.subscribe(count)
    async with fleet:
        await fleet.wait_connected(30)
        await asyncio.sleep(1.0)  # let the first full refreshes pass
        first, start, theirs = taken, cpu(), others()
        await asyncio.sleep(FLEET_SECONDS)
        samples = taken - first
        return (cpu() - start).per(samples), (others() - theirs) / max(samples, 1), samples


async def main(child: str = __file__) -> None:
    """Make the lab and run ``child`` (a script taking the inventory's path) in its admin namespace."""
    directory = Path(tempfile.mkdtemp(prefix="bench-hosts-", dir="/tmp"))
    try:
        await _run(directory, child)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _run(directory: Path, child: str) -> None:
    async with HostLab(directory) as lab:
        await lab.up(hosts=2, vms_per_host=4, dirty_rate_mib_s=0)  # 4 sources + 4 destinations a host
        path = lab.write_inventory(directory / "inventory.toml")
        direct = directory / "ssh_config.direct"
        direct.write_text(re.sub(r"\n  ProxyCommand .*", "", lab.ssh_config.read_text()))
        path.write_text(path.read_text().replace(str(lab.ssh_config), str(direct)))
        assert lab.admin is not None
        subprocess.run(["nsenter", f"--net=/proc/{lab.admin.pid}/ns/net", sys.executable, child, str(path)],
                       check=True)


async def measure(inventory_path: Path) -> None:
    inventory = load_inventory(inventory_path)
    directory = inventory_path.parent
    vm = inventory.get("vm1")
    ctl = directory / "hv1" / "vm1.ctl.qmp"
    ctls = [directory / (v.host or "") / f"{v.name}.ctl.qmp" for v in inventory.vm]
    local = [VMEntry(name=v.name, qmp=str(path)) for v, path in zip(inventory.vm, ctls)]
    await pause(ctls)
    # Local and SSH alternate, ROUNDS times: the machine's load drifts, and a
    # ratio of two figures taken minutes apart would measure the drift.
    singles: list[tuple[Cpu, Cpu]] = []
    fleets: list[tuple[Cpu, Cpu]] = []
    openssh: list[float] = []  # OpenSSH's client / local, the fleet's CPU and its masters'
    async with HostPool(inventory.host) as pool, \
            OpenSSHForwards(list(inventory.host), list(inventory.vm), directory / "openssh") as forwards:
        for round_ in range(1, ROUNDS + 1):
            local_rtt, local_cpu = await loop(Client("local"), str(ctl), ROUND_TRIPS)
            client = Client("ssh")
            ssh_rtt, ssh_cpu = await loop(client, await pool.host("hv1").open_streams(vm.qmp, client.readbuflen),
                                          ROUND_TRIPS)
            singles.append((local_cpu, ssh_cpu))
            print(f"round {round_}: one VM, {ROUND_TRIPS} query-migrate: round trip local {local_rtt * 1e6:.0f} us, "
                  f"over SSH {ssh_rtt * 1e6:.0f} us ({ssh_rtt / local_rtt:.2f}x); CPU per sample "
                  f"{figures(local_cpu, ssh_cpu)}")
            local_fleet, _, n_local = await fleet_cpu(local, [])
            ssh_fleet, _, n_ssh = await fleet_cpu(list(inventory.vm), list(inventory.host))
            fleets.append((local_fleet, ssh_fleet))
            print(f"round {round_}: fleet of {len(local)} VMs on 2 hosts at {1 / FLEET_INTERVAL:g} Hz "
                  f"({n_local} samples local, {n_ssh} over SSH): CPU per sample {figures(local_fleet, ssh_fleet)}")
            ours, masters, n_openssh = await fleet_cpu(forwards.entries, [], forwards.cpu)
            openssh.append((ours.total + masters) / local_fleet.total)
            print(f"round {round_}: the same fleet through OpenSSH's client ({n_openssh} samples): CPU per sample "
                  f"{(ours.total + masters) * 1e6:.0f} us (the fleet {ours.total * 1e6:.0f}, ssh {masters * 1e6:.0f}): "
                  f"{openssh[-1]:.2f}x local")
    for what, pairs in (("one VM back to back", singles), ("fleet", fleets)):
        ratios = [ssh.total / local.total for local, ssh in pairs]
        user = statistics.median(ssh.user / local.user for local, ssh in pairs)
        median = statistics.median(ratios)
        goal = f"; goal at most 1.5x: {'met' if median <= 1.5 else 'NOT met'}" if pairs is fleets else ""
        print(f"{what}: SSH / local CPU per sample, median of {ROUNDS} rounds {median:.2f}x "
              f"(range {min(ratios):.2f}-{max(ratios):.2f}x{goal}); user space alone {user:.2f}x")
    print(f"fleet through OpenSSH's client (ControlMaster, for comparison): median {statistics.median(openssh):.2f}x "
          f"local (range {min(openssh):.2f}-{max(openssh):.2f}x)")


async def pause(ctls: list[Path]) -> None:
    for path in ctls:
        async with await ControlClient.connect(path) as control:
            if (await control.execute("query-status"))["status"] == "running":
                await control.execute("stop")


def figures(local: Cpu, ssh: Cpu) -> str:
    """Both CPU figures, split: over veth the kernel also charges the sender with the
    receiving namespace's TCP work, which a real network card would take."""
    return (f"local {local.total * 1e6:.0f} us ({local.user * 1e6:.0f} user), over SSH {ssh.total * 1e6:.0f} us "
            f"({ssh.user * 1e6:.0f} user): {ssh.total / local.total:.2f}x")


if __name__ == "__main__":
    asyncio.run(measure(Path(sys.argv[1])) if len(sys.argv) > 1 else main())
