"""A postcopy between two lab hosts, split by a real fault on their link: what the recovery tests share.

The source runs on hv1, its destination waits on hv2; the migration stream
crosses the lab's link (veth, bridge, veth). The fault is ``ss -K`` run
inside hv1's network namespace on the stream's connection: the kernel
aborts it and sends the destination a reset, as a firewall that lost the
connection's state and answers it with a reset would. Taking the link down instead
does not pause a postcopy: TCP only retransmits, QEMU sees no error, and
both sides stay ``postcopy-active`` while the guest on hv2 stalls on its
first missing page (measured: 20 s down, no pause; ``migrate-pause`` on the
source then pauses it, the destination only once the link is back up).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from hosts_lab import short_dir
from migtui.lab.control import ControlClient
from migtui.lab.hosts import HostLab, LabHost
from migtui.lab.vm import VM
from waiting import until_true

POSTCOPY_PARAMETERS = {"max-bandwidth": 8 << 20, "max-postcopy-bandwidth": 2 << 20}
"""Slow enough that the postcopy still runs when the stream is cut, whatever the machine's load
(a 48 MiB working set: its pages left at the switch take many seconds at 2 MiB/s)."""


@dataclass
class SplitLab:
    lab: HostLab
    source_host: LabHost
    destination_host: LabHost
    source: VM
    destination: VM


@pytest.fixture
async def split_lab() -> AsyncIterator[SplitLab]:
    """vm1 on hv1, vm1-dst waiting on hv2, an inventory of both; every QEMU, sshd and namespace
    gone after the test, pass or fail (HostLab's close; its children die with the test run too)."""
    directory = short_dir("split")
    try:
        async with HostLab(directory) as lab:
            hv1, hv2 = await lab.start_hosts(2)
            source = await hv1.lab.start_source("vm1", mem_mib=128, dirty_mib=48, dirty_rate_mib_s=4)
            destination = await hv2.lab.start_destination("vm1-dst", like=source)
            lab.write_inventory(directory / "inventory.toml", audit_log=directory / "audit.jsonl")
            yield SplitLab(lab, hv1, hv2, source, destination)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def status_of(client: ControlClient) -> str:
    return str((await client.execute("query-migrate")).get("status", "none"))


async def wait_status(client: ControlClient, status: str, timeout: float, what: str) -> None:
    async def reached() -> bool:
        return await status_of(client) == status

    await until_true(reached, timeout, what)


async def first_pass_over(source: ControlClient, timeout: float = 60) -> None:
    """The whole RAM sent once: postcopy from here leaves only the pages dirtied since."""
    async def over() -> bool:
        return (await source.execute("query-migrate")).get("ram", {}).get("dirty-sync-count", 0) >= 2

    await until_true(over, timeout, "the first pass of the migration")


async def kill_stream(on: LabHost, to: LabHost, port: str) -> str:
    """Abort the migration's TCP connection inside ``on``'s network namespace (``ss -K``); return
    what ss says it killed (the connection from ``on`` to ``to``'s port, crossing the lab link)."""
    process = await asyncio.create_subprocess_exec(
        *on.ns.enter(), "ss", "-K", "-t", "-n", "dst", to.address, "dport", "=", f":{port}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    killed = out.decode()
    assert f"{to.address}:{port}" in killed, f"ss -K killed nothing: {killed!r}"
    return killed
