"""Finding what the path of a migration carries: from its URI and the source's host.

The model (:mod:`migtui.model.path`) says what each figure means; this asks
the source's machine, on the machine itself or over the host's SSH
connection: ``ip -o route get ADDR`` names the interface toward the
destination (``lo``, or ``local``, for this host), ``/sys/class/net/DEV/speed``
its speed in Mbit/s (-1 or absent for virtual ones), ``tc qdisc show dev DEV``
a shaper's rate. Whatever cannot be read is left out, never guessed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import shlex
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from migtui.host_entry import HostEntry
from migtui.model.path import PathCapacity, PathKind, parse_link, same_host, tc_rate
from migtui.qmp.session import VMSession

log = logging.getLogger(__name__)

Runner = Callable[[list[str]], Awaitable[str]]
"""Runs a command on the source's machine; its standard output ('' when it failed)."""
PROBE_TIMEOUT = 5.0


async def run_here(argv: list[str]) -> str:
    try:
        process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.DEVNULL)
    except OSError:
        return ""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            out, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return ""
    return out.decode(errors="replace") if process.returncode == 0 else ""


def runner_for(session: VMSession) -> Runner:
    """Commands on the VM's machine: here, or over its host's SSH connection."""
    host = session.host
    if host is None:
        return run_here

    async def over_ssh(argv: list[str]) -> str:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                connection = await host.connection()
                result = await connection.run(shlex.join(argv), check=False)
        except Exception as error:  # an unreachable host only leaves the figure out
            log.debug("path probe on %s: %s", host.entry.name, error)
            return ""
        out = result.stdout
        text = out.decode(errors="replace") if isinstance(out, bytes) else str(out or "")
        return text if result.exit_status == 0 else ""

    return over_ssh


def destination_address(uri: str) -> str | None:
    """The address a ``tcp:HOST:PORT`` URI goes to (a libvirt URI's host too: ``tcp://HOST:PORT``,
    ``qemu+tcp://HOST/system``); None for a unix socket, a file, a command."""
    if "://" in uri:
        return urlsplit(uri).hostname
    if not uri.startswith("tcp:"):
        return None
    host = uri[4:].rsplit(":", 1)[0]
    return host.strip("[]")


def destination_of(uri: str | None) -> str:
    """What a migration's path is known by on the destination's side: the address of a ``tcp:`` URI,
    else its transport ('unix', 'exec'); '?' when the URI is unknown (another tool started it)."""
    if uri is None:
        return "?"
    return destination_address(uri) or uri.split(":", 1)[0]


async def probe(uri: str | None, run: Runner, host: HostEntry | None = None) -> PathCapacity | None:
    """What the path to ``uri`` carries (None: nothing known)."""
    if uri is None:
        return _declared(host)
    if uri.startswith(("unix:", "fd:", "file:", "exec:")):
        return same_host("a unix socket" if uri.startswith("unix:") else uri.split(":", 1)[0])
    address = destination_address(uri)
    if address is None:
        return _declared(host)
    try:
        if ipaddress.ip_address(address).is_loopback:
            return same_host("loopback")
    except ValueError:
        if address == "localhost":
            return same_host("loopback")
    route = (await run(["ip", "-o", "route", "get", address])).split()
    if not route:
        return _declared(host)
    if route[0] == "local" or "lo" in _after(route, "dev"):
        return same_host("loopback")
    device = _after(route, "dev")
    if not device:
        return _declared(host)
    found: list[PathCapacity] = []
    speed = (await run(["cat", f"/sys/class/net/{device[0]}/speed"])).strip()
    if speed.lstrip("-").isdigit() and int(speed) > 0:
        found.append(PathCapacity(int(speed) * 1e6 / 8, PathKind.INTERFACE,
                                  f"{device[0]} toward {address} at {int(speed)} Mbit/s "
                                  f"(/sys/class/net/{device[0]}/speed)"))
    for line in (await run(["tc", "qdisc", "show", "dev", device[0]])).splitlines():
        rate = tc_rate(line)
        if rate is not None:
            shaped = line.split(" rate ", 1)[1].split()[0]
            found.append(PathCapacity(rate, PathKind.INTERFACE,
                                      f"{device[0]} toward {address} shaped by tc to {shaped}"))
    if found:
        return min(found, key=lambda path: path.bandwidth)
    return _declared(host)


def _after(words: list[str], key: str) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == key]


def _declared(host: HostEntry | None) -> PathCapacity | None:
    if host is None or host.link is None:
        return None
    return PathCapacity(parse_link(host.link), PathKind.DECLARED,
                        f"link = \"{host.link}\" declared on host {host.name}")
