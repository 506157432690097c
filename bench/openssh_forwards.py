"""The same VM sockets through OpenSSH's own client, for comparison (bench_ssh.py).

One ``ssh -M`` master per host (OpenSSH's ControlMaster: one connection per
host, its packets made and encrypted in C), and for each VM a forward of a
local unix socket to the VM's remote one (``ssh -O forward -L local:remote``).
The fleet then reads those local sockets as it reads any local socket, so
the cost of SSH is what the masters spend: their CPU is counted with the
fleet's, from ``/proc``.

Not migtui's transport: a floor to hold asyncssh against.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import TracebackType
from typing import Self

from migtui.host_entry import HostEntry
from migtui.inventory import VMEntry
from migtui.lab.child import Child, run
from migtui.lab.errors import LabError

START_S = 10.0
TICKS = os.sysconf("SC_CLK_TCK")


class OpenSSHForwards:
    """``async with OpenSSHForwards(hosts, vms, directory) as forwards``: ``forwards.entries``
    are the VMs at their local ends; ``forwards.cpu()`` is the masters' CPU so far, in seconds."""

    def __init__(self, hosts: list[HostEntry], vms: list[VMEntry], directory: Path) -> None:
        self._hosts = {host.name: host for host in hosts}
        self._vms = vms
        self._directory = directory
        self._masters: list[Child] = []
        self.entries: list[VMEntry] = []

    def _ssh(self, host: HostEntry, *argv: str) -> list[str]:
        assert host.ssh is not None
        return ["ssh", "-F", str(host.ssh_config), "-S", str(self._directory / f"{host.name}.ctl"), "-o",
                "BatchMode=yes", *argv, host.ssh]

    async def __aenter__(self) -> Self:
        self._directory.mkdir(mode=0o700, exist_ok=True)
        try:
            for host in self._hosts.values():
                await self._start(host)
            for vm in self._vms:
                host = self._hosts[vm.host or ""]
                local = self._directory / f"{vm.name}.sock"
                await run(self._ssh(host, "-O", "forward", "-L", f"{local}:{vm.qmp}"),
                          self._directory / f"{host.name}.forward.log")
                self.entries.append(VMEntry(name=vm.name, qmp=str(local)))
        except BaseException:
            await self.close()
            raise
        return self

    async def _start(self, host: HostEntry) -> None:
        master = Child.spawn(self._ssh(host, "-M", "-N", "-o", "ControlPersist=no"),
                             self._directory / f"{host.name}.log")
        self._masters.append(master)
        deadline = asyncio.get_running_loop().time() + START_S
        while not await self._answers(host):  # the master is up once its control socket answers
            if master.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise LabError(f"ssh master for {host.name} did not start: {master.output_tail()}")
            await asyncio.sleep(0.05)

    async def _answers(self, host: HostEntry) -> bool:
        check = await asyncio.create_subprocess_exec(*self._ssh(host, "-O", "check"), stdout=asyncio.subprocess.DEVNULL,
                                                     stderr=asyncio.subprocess.DEVNULL)
        return await check.wait() == 0

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        for master in self._masters:
            await master.stop()
        self._masters.clear()

    def cpu(self) -> float:
        total = 0
        for master in self._masters:
            fields = Path(f"/proc/{master.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS
