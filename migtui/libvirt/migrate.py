"""Migrating a libvirt domain to another libvirt host of the inventory, as admins do with libvirt.

``migrateToURI3``, peer to peer (the source's libvirtd talks to the
destination's), live, and by default persistent on the destination and
undefined on the source: the VM lives on where it went, as after
``virsh migrate --live --p2p --persistent --undefinesource``. What migtui's
migration plan says becomes libvirt's own parameters and flags
(bandwidth, postcopy, auto-converge and its throttle steps, parallel
connections, xbzrle compression); the migration stream goes to the
destination host's ``migration_address`` when it has one.

The pre-flight asks libvirt, before anything changes: both hosts answer,
the destination does not run the domain already (by UUID or by name), can
run its CPU model, and has a QEMU not older than the source's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from migtui.errors import MigtuiError, UsageError
from migtui.libvirt import binding
from migtui.libvirt.commands import SETTABLE
from migtui.libvirt.domain_session import DomainSession
from migtui.libvirt.host import HostUnavailable, LibvirtFailure, LibvirtHost
from migtui.libvirt.translate import bandwidth_mib
from migtui.model.controls import Control, refusal
from migtui.qmp.migration import MigrationPlan, read_facts

PLAN_PARAMETERS = frozenset({"max-bandwidth", "max-postcopy-bandwidth", "multifd-channels", "cpu-throttle-initial",
                             "cpu-throttle-increment", *SETTABLE})
"""Parameters a migration plan may carry through libvirt (as libvirt parameters, or set on the source first)."""
PLAN_CAPABILITIES = frozenset({"postcopy-ram", "auto-converge", "multifd", "xbzrle", "events"})


def destination_host(source: DomainSession, name: str) -> LibvirtHost:
    """The libvirt host of the inventory called ``name``, not the one the domain runs on."""
    host = source.hosts.get(name)
    if host is None:
        others = ", ".join(sorted(n for n in source.hosts if n != source.home.name)) or "none"
        raise UsageError(f"{source.name} is a libvirt domain: it migrates to another libvirt host of the "
                         f"inventory, and there is no libvirt host named {name!r} (others: {others})")
    if host is source.home:
        raise UsageError(f"{source.name} runs on {name} already")
    return host


def migrate_arguments(plan: MigrationPlan, destination: LibvirtHost) -> dict[str, Any]:
    """libvirt's ``migrateToURI3`` arguments for ``plan`` (refused whole when it asks what libvirt cannot do)."""
    libvirt = binding.load()
    unknown = sorted(set(plan.parameters) - PLAN_PARAMETERS) + sorted(set(plan.capabilities) - PLAN_CAPABILITIES)
    if unknown and not destination.entry.qmp_passthrough:
        raise UsageError(f"a migration through libvirt takes {', '.join(sorted(PLAN_PARAMETERS))} and the "
                         f"capabilities {', '.join(sorted(PLAN_CAPABILITIES - {'events'}))}; not "
                         f"{', '.join(unknown)}")
    parameters, on = plan.parameters, {name for name, state in plan.capabilities.items() if state}
    params: dict[str, Any] = {}
    if destination.entry.migration_address:
        address = destination.entry.migration_address
        params[libvirt.VIR_MIGRATE_PARAM_URI] = f"tcp://[{address}]" if ":" in address else f"tcp://{address}"
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
    if plan.persist_destination:
        flags |= libvirt.VIR_MIGRATE_PERSIST_DEST
    if plan.undefine_source:
        flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if "max-bandwidth" in parameters:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = bandwidth_mib(int(parameters["max-bandwidth"]))
    if "max-postcopy-bandwidth" in parameters:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY] = bandwidth_mib(int(parameters["max-postcopy-bandwidth"]))
    if "postcopy-ram" in on:
        flags |= libvirt.VIR_MIGRATE_POSTCOPY
    if "auto-converge" in on:
        flags |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
        for name, key in (("cpu-throttle-initial", libvirt.VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL),
                          ("cpu-throttle-increment", libvirt.VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT)):
            if name in parameters:
                params[key] = int(parameters[name])
    if "multifd" in on:
        flags |= libvirt.VIR_MIGRATE_PARALLEL
        if "multifd-channels" in parameters:
            params[libvirt.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = int(parameters["multifd-channels"])
    if "xbzrle" in on:
        flags |= libvirt.VIR_MIGRATE_COMPRESSED
        params[libvirt.VIR_MIGRATE_PARAM_COMPRESSION] = "xbzrle"
    return {"dconnuri": destination.entry.peer_libvirt or destination.uri, "params": params, "flags": flags,
            "host": destination.name}


async def preflight(source: DomainSession, destination: LibvirtHost) -> list[str]:
    """What would make the migration fail at once (empty: go ahead); nothing changes."""
    problems = []
    if (cannot := refusal(Control.MIGRATE, await read_facts(source))) is not None:
        problems.append(cannot.rstrip("."))
    try:
        await destination.connect()
    except HostUnavailable as down:
        return [*problems, down.reason]
    conn, home = destination.conn, source.home
    try:
        domain = await home.domain(source.uuid)
        name = await home.call("name", domain.name)
        if (there := await _running(destination, conn.lookupByUUIDString, source.uuid)) is not None:
            problems.append(f"{destination.name} runs {source.name} already ({there})")
        elif (there := await _running(destination, conn.lookupByName, name)) is not None:
            problems.append(f"{destination.name} runs another domain named {name} ({there})")
        if (check := _cpu_check(await home.call("XMLDesc", domain.XMLDesc, 0))) is not None:
            verdict = await destination.call("compareHypervisorCPU", conn.compareHypervisorCPU, check.emulator,
                                             check.arch, check.machine, check.virttype, check.cpu, 0)
            if verdict == 0:  # VIR_CPU_COMPARE_INCOMPATIBLE
                problems.append(f"{destination.name} cannot run {source.name}'s CPU model")
        mine = await home.call("getVersion", home.conn.getVersion)
        theirs = await destination.call("getVersion", conn.getVersion)
        if theirs < mine:
            problems.append(f"{destination.name}'s QEMU {_release(theirs)} is older than {home.name}'s "
                            f"{_release(mine)}: migrations to an older QEMU often fail")
    except (HostUnavailable, LibvirtFailure) as failure:
        problems.append(getattr(failure, "reason", None) or str(failure))
    return problems


async def start(source: DomainSession, destination: str, plan: MigrationPlan, check: bool = True) -> str:
    """Pre-flight (unless ``check`` is off), the settings libvirt sets on the source, then libvirt's
    migration; returns the destination's libvirt URI. Everything passes the gate and the audit log."""
    host = destination_host(source, destination)
    arguments = migrate_arguments(plan, host)  # a plan libvirt cannot carry is refused before anything changes
    if check and (problems := await preflight(source, host)):
        raise MigtuiError("; ".join(problems))
    # What libvirt's migrate call does not take as a parameter of its own is set on the source first.
    settable = {name: value for name, value in plan.parameters.items()
                if name in SETTABLE and name not in ("max-bandwidth", "max-postcopy-bandwidth")}
    if settable:
        await source.execute("migrate-set-parameters", settable)
    if plan.capabilities:
        await source.execute("migrate-set-capabilities", {"capabilities": [
            {"capability": name, "state": state} for name, state in plan.capabilities.items()]})
    await source.execute("migrate", arguments)
    source.outgoing_uri = str(arguments["params"].get("migrate_uri") or arguments["dconnuri"])
    return str(arguments["dconnuri"])


async def _running(host: LibvirtHost, lookup: Any, key: str) -> str | None:
    """The state of the host's domain found by ``lookup(key)``, if it runs (None: none, or shut off)."""
    try:
        domain = await host.call("lookup", lookup, key)
    except LibvirtFailure:
        return None
    state, _ = await host.call("state", domain.state)
    return None if state == 5 else "running" if state == 1 else "paused"


@dataclass(frozen=True)
class CPUCheck:
    """What ``compareHypervisorCPU`` needs of a domain: its CPU and what it runs on."""

    emulator: str | None
    arch: str | None
    machine: str | None
    virttype: str | None
    cpu: str


def _cpu_check(xml: str) -> CPUCheck | None:
    """The domain's CPU check, when its ``<cpu>`` names a model (host-passthrough and none: nothing to compare)."""
    domain = ElementTree.fromstring(xml)
    cpu = domain.find("cpu")
    if cpu is None or cpu.find("model") is None:
        return None
    kind = domain.find("os/type")
    return CPUCheck(domain.findtext("devices/emulator"), kind.get("arch") if kind is not None else None,
                    kind.get("machine") if kind is not None else None, domain.get("type"),
                    ElementTree.tostring(cpu, encoding="unicode"))


def _release(version: int) -> str:
    return f"{version // 1_000_000}.{version // 1000 % 1000}"
