"""Migration as an engine call: prepare both sides, start, follow, steer.

QEMU sends MIGRATION events only when the ``events`` capability is on, on
each side separately, so it is always switched on for both. Capabilities are
set on both sides too (several, e.g. postcopy-ram and multifd, must match);
parameters are set on the source, where the migration is driven.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from migtui.errors import MigtuiError
from migtui.model.controls import Control, MigrationFacts, refusal
from migtui.model.link import LinkState
from migtui.model.status import ACTIVE_STATES, FINAL_STATES, MigrationStatus, RunState
from migtui.qmp.errors import QEMURefused
from migtui.qmp.queries import Queries
from migtui.qmp.replies import JSONObject, capability_states, json_objects, qemu_version
from migtui.qmp.session import VMSession
from migtui.units import exact_bytes

URI_SCHEMES = ("tcp:", "unix:", "exec:", "rdma:", "fd:", "file:", "vsock:")
"""How a migration URI starts (anything else names a VM of the inventory)."""
LISTEN_URI = "tcp:127.0.0.1:0"  # port 0: QEMU picks a free port and reports it
MAX_PORT_TRIES = 64
"""Ports of a host's ``migration_ports`` tried before giving up (each is one QMP command)."""

# Capabilities that must be equal on both sides for a migration to work.
MATCHING_CAPABILITIES = ("postcopy-ram", "multifd", "x-colo", "return-path", "validate-uuid",
                         "mapped-ram", "switchover-ack")


@dataclass
class MigrationPlan:
    parameters: dict[str, Any] = field(default_factory=dict)
    """Arguments for migrate-set-parameters, as QEMU spells them."""
    capabilities: dict[str, bool] = field(default_factory=dict)
    persist_destination: bool = True
    """A libvirt domain stays defined on the destination (libvirt's PERSIST_DEST); QMP migrations ignore it."""
    undefine_source: bool = True
    """A libvirt domain is undefined on the source once migrated (UNDEFINE_SOURCE); QMP migrations ignore it."""


class MigrationFailed(MigtuiError):
    """The migration ended in another status than completed."""


@dataclass(frozen=True)
class Listen:
    """Where a destination listens for the migration stream: its host's address, a port range or any port."""

    address: str = "127.0.0.1"
    ports: range | None = None

    def uris(self) -> list[str]:
        host = f"[{self.address}]" if ":" in self.address else self.address
        ports = list(self.ports[:MAX_PORT_TRIES]) if self.ports else [0]
        return [f"tcp:{host}:{port}" for port in ports]


LOOPBACK = Listen()


def listen_for(destination: VMSession) -> Listen:
    """Where a destination listens: its inventory host's migration address and ports,
    SSH host or not (this machine's loopback when it names no host)."""
    host = destination.host_entry
    return Listen(host.listen_address, host.listen_ports) if host is not None else LOOPBACK


async def set_capabilities(session: VMSession, capabilities: dict[str, bool]) -> None:
    if capabilities:
        await session.execute("migrate-set-capabilities", {
            "capabilities": [{"capability": name, "state": state} for name, state in capabilities.items()]
        })


async def preflight(source: Queries, destination: Queries | None,
                    plan: MigrationPlan | None = None) -> list[str]:
    """Problems that would make a migration fail at once (empty: go ahead).

    Capabilities are compared as they will be once ``plan`` is applied to both
    sides, so nothing needs changing before the check.
    """
    planned = (plan or MigrationPlan()).capabilities
    problems = []
    if (cannot := refusal(Control.MIGRATE, await read_facts(source))) is not None:
        problems.append(cannot.rstrip("."))
    if destination is not None:
        dst_status = (await destination.query("query-status")).get("status")
        if dst_status != "inmigrate":
            problems.append(f"{destination.name} is {dst_status}, not waiting for an incoming migration "
                            "(start it with -incoming defer)")
        elif _taking_one(incoming := await destination.query("query-migrate")):
            # QEMU takes one incoming migration: listening (migrate-incoming sent; its answer has the
            # socket-address and no status yet) or receiving.
            doing = incoming.get("status") or "listening"
            problems.append(f"{destination.name} already takes an incoming migration ({doing})")
        held = await _capabilities(destination)
        mine = {**await _capabilities(source), **planned}
        theirs = {**held, **planned}
        for name in MATCHING_CAPABILITIES:
            if name in mine and mine[name] != theirs.get(name, False):
                problems.append(f"capability {name} is {'on' if mine[name] else 'off'} on {source.name} "
                                f"but {'on' if theirs.get(name) else 'off'} on {destination.name}")
        problems += await _destination_fits(source, destination, set(held), plan or MigrationPlan())
    return problems


def _taking_one(incoming: JSONObject) -> bool:
    """Whether a destination's ``query-migrate`` tells an incoming migration under way or awaited."""
    return incoming.get("status") in ACTIVE_STATES or bool(incoming.get("socket-address"))


async def read_facts(session: Queries) -> MigrationFacts:
    """What decides whether a control can act on the VM, live from QEMU (the session is connected)."""
    status = (await session.query("query-migrate")).get("status") or MigrationStatus.NONE
    run_state = (await session.query("query-status")).get("status")
    capabilities = await _capabilities(session)
    return MigrationFacts(session.name, LinkState.CONNECTED, str(status),
                          run_state if isinstance(run_state, str) else None,
                          run_state == RunState.INMIGRATE, bool(capabilities.get("postcopy-ram")))


async def _destination_fits(source: Queries, destination: Queries, held: set[str],
                            plan: MigrationPlan) -> list[str]:
    """What the destination's QEMU (with the capabilities ``held``) lacks for this migration
    (it may run elsewhere, another release)."""
    problems = []
    problems += [f"{destination.name}'s QEMU has no migration capability {name}"
                 for name in plan.capabilities if name not in held]
    parameters = await destination.query("query-migrate-parameters")
    problems += [f"{destination.name}'s QEMU has no migration parameter {name}"
                 for name in plan.parameters if name not in parameters]
    mine = (await source.query("query-memory-size-summary")).get("base-memory")
    theirs = (await destination.query("query-memory-size-summary")).get("base-memory")
    if mine != theirs:
        problems.append(f"RAM differs: {source.name} has {_size(mine)}, {destination.name} {_size(theirs)} "
                        "(start the destination with the same -m)")
    src_version, dst_version = _release(source), _release(destination)
    if src_version and dst_version and dst_version < src_version:
        problems.append(f"{destination.name}'s QEMU {qemu_version(destination.version)} is older than "
                        f"{source.name}'s {qemu_version(source.version)}: QEMU migrates forward only")
    return problems


def _size(size: object) -> str:
    return exact_bytes(size) if isinstance(size, int) else "an unknown size"


def _release(session: Queries) -> tuple[int, int, int] | None:
    qemu = (session.version or {}).get("qemu")
    if not isinstance(qemu, dict):
        return None
    try:
        return int(qemu["major"]), int(qemu["minor"]), int(qemu["micro"])
    except (KeyError, TypeError, ValueError):
        return None


async def _capabilities(session: Queries) -> dict[str, bool]:
    return capability_states(await session.query_list("query-migrate-capabilities"))


async def listen_incoming(destination: VMSession, listen: Listen = LOOPBACK, command: str = "migrate-incoming") -> str:
    """Make a ``-incoming defer`` VM listen (a free port of ``listen``); return the URI.

    ``command`` "migrate-recover": a destination whose postcopy paused listens again, for the resume."""
    before = await _listening(destination) if command != "migrate-incoming" else set()
    uris = listen.uris()
    for uri in uris:
        try:
            await destination.execute(command, {"uri": uri})
            break
        except QEMURefused as refused:  # a port in use: QEMU lets the command be tried again
            if uri == uris[-1] or "in use" not in refused.desc.lower():
                raise
    now = await _listening(destination)
    for uri in sorted(now - before) or sorted(now):
        return uri
    raise MigtuiError(f"{destination.name}: QEMU did not say which port it listens on")


async def _listening(destination: VMSession) -> set[str]:
    """The addresses QEMU says the destination listens on (a paused postcopy still lists its old one)."""
    info = await destination.query("query-migrate")
    return {f"tcp:{address['host']}:{address['port']}"
            for address in json_objects(destination.name, "query-migrate", info.get("socket-address", []))
            if address.get("type") in ("inet", "tcp") and str(address.get("port", "0")) != "0"}


async def start_migration(source: VMSession, target: VMSession | str, plan: MigrationPlan | None = None,
                          check: bool = True) -> str:
    """Prepare both sides and start migrating ``source`` to ``target``; return the URI.

    A destination VM listens where its host says (:func:`listen_for`): the
    stream goes to the destination's host.
    """
    plan = plan or MigrationPlan()
    destination = target if isinstance(target, VMSession) else None
    capabilities = {"events": True, **plan.capabilities}
    if check:
        problems = await preflight(source, destination, plan)
        if problems:
            raise MigtuiError("; ".join(problems))
    async with contextlib.AsyncExitStack() as undo:
        await undo.enter_async_context(restored_on_error(source, plan.parameters, capabilities))
        if plan.parameters:
            await source.execute("migrate-set-parameters", plan.parameters)
        await set_capabilities(source, capabilities)
        if destination is not None:
            await undo.enter_async_context(restored_on_error(destination, {}, capabilities))
            await set_capabilities(destination, capabilities)
            uri = await listen_incoming(destination, listen_for(destination))
        else:
            uri = str(target)
        await source.execute("migrate", {"uri": uri})
    source.outgoing_uri = uri
    return uri


@contextlib.asynccontextmanager
async def restored_on_error(session: VMSession, parameters: dict[str, Any],
                             capabilities: dict[str, bool]) -> AsyncIterator[None]:
    """Put back the parameters and capabilities about to change if a later step fails.

    QEMU applies each command on its own; without this a refused ``migrate``
    would leave the VM half-configured.
    """
    before_params = await session.query("query-migrate-parameters") if parameters else {}
    before_caps = await _capabilities(session)
    try:
        yield
    except BaseException:
        with contextlib.suppress(MigtuiError):
            now_params = await session.query("query-migrate-parameters") if parameters else {}
            now_caps = await _capabilities(session)
            old_params = {k: before_params[k] for k in parameters
                          if k in before_params and now_params.get(k) != before_params[k]}
            old_caps = {k: before_caps[k] for k in capabilities
                        if k in before_caps and now_caps.get(k) != before_caps[k]}
            if old_params:
                await session.execute("migrate-set-parameters", old_params)
            await set_capabilities(session, old_caps)
        raise


async def cancel(source: VMSession) -> None:
    await source.execute("migrate_cancel")


async def start_postcopy(source: VMSession) -> None:
    await source.execute("migrate-start-postcopy")


async def wait_until_done(source: VMSession,
                          on_sample: Callable[[dict[str, Any]], Awaitable[None] | None] | None = None,
                          interval: float = 0.5) -> dict[str, Any]:
    """Follow the migration until it ends; return the last ``query-migrate``.

    Woken by MIGRATION and MIGRATION_PASS events (a pass start is what the
    prediction reads), polled every ``interval`` for the figures.
    ``on_sample`` may be a coroutine function (a policy steps there).
    """
    with source.listener(["MIGRATION", "MIGRATION_PASS"]) as events:
        while True:
            info = await source.query("query-migrate")
            if on_sample:
                done = on_sample(info)
                if done is not None:
                    await done
            if info.get("status") in FINAL_STATES:
                return info
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await events.get()
