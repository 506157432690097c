"""The QMP commands migtui sends, carried out with libvirt's own calls.

What libvirt has a call for goes through it: ``jobStats`` for
``query-migrate``, ``migrateSetMaxDowntime`` and ``migrateSetMaxSpeed`` for
the parameters the advice and the policies change, ``abortJob`` for
``migrate_cancel``, ``migrateStartPostCopy``, ``migrateToURI3`` for the
migration itself. What it has none for (QEMU's other migration settings) is
refused before anything changes, naming what libvirt does set, unless the
host says ``qmp_passthrough = true``: then it goes through libvirt's
monitor passthrough, and libvirt marks the domain tainted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from migtui.errors import MigtuiError
from migtui.libvirt import binding
from migtui.libvirt.host import CALL_TIMEOUT, LibvirtFailure, LibvirtHost
from migtui.libvirt.translate import (
    JOB_CANCELLED,
    JOB_FAILED,
    JOB_NONE,
    JOB_UNBOUNDED,
    RUNNING,
    MiB,
    bandwidth_mib,
    migration_info,
    qemu_version,
    run_status,
)
from migtui.model.status import MigrationStatus
from migtui.qmp.tasks import cancel_all

log = logging.getLogger(__name__)

SETTABLE = ("downtime-limit", "max-bandwidth", "max-postcopy-bandwidth", "xbzrle-cache-size")
"""The migration parameters libvirt has calls for."""
FLAG_CAPABILITIES = ("postcopy-ram", "auto-converge", "xbzrle", "multifd")
"""Capabilities that are flags of libvirt's migrate call: taken for the next migration."""
SNAPSHOTS_ARE_LIBVIRTS = ("a libvirt domain's snapshots are libvirt's (virsh snapshot-create-as, snapshot-list): "
                          "QEMU's own snapshot jobs would bypass libvirt's snapshot records")
SNAPSHOT_COMMANDS = frozenset({"snapshot-save", "snapshot-load", "snapshot-delete", "query-block",
                               "query-named-block-nodes"})
"""What migtui's snapshot jobs send (and read first): refused for a libvirt domain, whose snapshots libvirt keeps."""
SETTING_TIMEOUT = 3.0
"""How long one migration setting's read may take (the poll reads them again later)."""
STATS_COMPLETED = 1  # VIR_DOMAIN_JOB_STATS_COMPLETED
MAX_SPEED_POSTCOPY = 1  # VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY
ABORTED = 78  # VIR_ERR_OPERATION_ABORTED
QUICK_LIMIT = 0.5
"""An idle domain's jobStats shares a worker with the others' (LibvirtHost.call, quick): one that took
longer than this (libvirt kept it waiting) is asked alone from then on, and holds up no other poll again."""
MIGRATION_START_WAIT = 30.0
"""How long ``migrate`` waits for libvirt to start the job (it starts the destination's QEMU first)."""

Handler = Callable[[dict[str, Any]], Awaitable[object]]


class Domain(Protocol):
    """What the commands need of the domain's session."""

    name: str
    uuid: str
    home: LibvirtHost
    final: dict[str, Any] | None

    def hear(self, record: dict[str, Any]) -> None: ...


class DomainCommands:
    def __init__(self, session: Domain) -> None:
        self.session = session
        self.capabilities: dict[str, bool] = {"events": True}
        """What ``query-migrate-capabilities`` answers: the flags of the next (or running) migration."""
        self._active = False
        """The last poll saw a migration job running."""
        self._looked_back = False
        """libvirt's completed-job figures were read since the last job ran."""
        self._slow = False
        """A quick jobStats of this domain took longer than QUICK_LIMIT: it is asked alone."""
        self._last: dict[str, Any] = {}
        """The last answer of a running job."""
        self.tainted = False
        """A command went through libvirt's monitor passthrough (the host allows it): libvirt marked the
        domain tainted, and its QEMU's own values are read through it since."""
        self.postcopy = False
        """The running migration switched to postcopy (libvirt's events, or migtui's own switch, say so)."""
        self.refused: LibvirtFailure | None = None
        """How libvirt's last migrate call failed (None: it did not, or runs)."""
        self.migration: asyncio.Task[None] | None = None
        """libvirt's migrate call, which returns only when the migration ended (in a worker thread)."""
        self._handlers: dict[str, Handler] = {
            "query-version": self._version,
            "query-status": self._status,
            "query-migrate": self._migration,
            "query-migrate-parameters": self._parameters,
            "query-migrate-capabilities": self._capabilities,
            "query-memory-size-summary": self._memory,
            "query-jobs": self._no_jobs,
            "query-qmp-schema": self._no_schema,
            "migrate-set-parameters": self._set_parameters,
            "migrate-set-capabilities": self._set_capabilities,
            "migrate_cancel": self._cancel,
            "migrate-start-postcopy": self._postcopy,
            "migrate": self._migrate,
            "calc-dirty-rate": self._calc_dirty_rate,
            "query-dirty-rate": self._dirty_rate,
        }

    @property
    def host(self) -> LibvirtHost:
        return self.session.home

    async def run(self, command: str, arguments: dict[str, Any]) -> object:
        handler = self._handlers.get(command)
        if handler is not None:
            return await handler(arguments)
        if command in SNAPSHOT_COMMANDS:
            raise MigtuiError(SNAPSHOTS_ARE_LIBVIRTS)
        if self.host.entry.qmp_passthrough:
            return await self._passthrough(command, arguments)
        raise MigtuiError(f"libvirt has no call for {command}; qmp_passthrough = true on host "
                          f"{self.host.name} sends it through libvirt's monitor (libvirt then marks the domain "
                          "tainted)")

    async def close(self) -> None:
        if self.migration is not None:
            await cancel_all([self.migration])

    async def _call(self, what: str, method: str, *args: Any, timeout: float | None = CALL_TIMEOUT) -> Any:
        """``dom.method(*args)`` on the home host, in a worker thread."""
        domain = await self.host.domain(self.session.uuid)
        return await self.host.call(what, getattr(domain, method), *args, timeout=timeout)

    # -- queries ----------------------------------------------------------------------

    async def _version(self, _: dict[str, Any]) -> object:
        conn = self.host.conn
        if conn is None:
            raise LibvirtFailure(self.host.name, "getVersion", -1, self.host.describe_down())
        return qemu_version(await self.host.call("getVersion", conn.getVersion))

    async def _status(self, _: dict[str, Any]) -> object:
        state, reason = await self._call("state", "state")
        return {"status": run_status(state, reason), "running": state == RUNNING}

    async def _migration(self, _: dict[str, Any]) -> object:
        domain = await self.host.domain(self.session.uuid)
        # A domain with no job running is answered by libvirt at once, without asking QEMU.
        quick, asked = not (self._active or self._slow), time.monotonic()
        try:
            stats = await self.host.call("jobStats", domain.jobStats, quick=quick)
        except LibvirtFailure:
            # The domain left this host (or stopped) with its job. Its end comes in libvirt's
            # JOB_COMPLETED event, a moment later: until then, the last figures seen.
            return self.session.final or (self._last if self._active else {})
        finally:
            self._slow = self._slow or (quick and time.monotonic() - asked > QUICK_LIMIT)
        kind = stats.get("type", JOB_NONE)
        was_active, self._active = self._active, kind == JOB_UNBOUNDED
        if kind == JOB_NONE:
            if self.session.final is None and not self._looked_back:
                # A migration that ended unseen (before migtui watched, or while it looked elsewhere):
                # libvirt keeps the last completed job's figures, on the destination too. Asked once.
                self._looked_back = True
                completed = await self.host.call("jobStats", domain.jobStats, STATS_COMPLETED)
                self.session.final = migration_info(completed) or None
            if self.session.final is None and was_active and (await self._call("state", "state"))[0] == RUNNING:
                # Gone between two polls with no end told, and the guest runs on here: libvirt ended
                # it (its daemon, started again, cancels the migration it was driving).
                self.session.final = {"status": MigrationStatus.CANCELLED,
                                      "error-desc": "libvirt ended the migration without telling how; "
                                                    "the guest runs on here"}
            return self.session.final or {}
        self._looked_back = False
        info = migration_info(stats, postcopy=self.postcopy)
        if kind in (JOB_FAILED, JOB_CANCELLED) and info:
            self.session.final = info
        elif info.get("status") in (MigrationStatus.SETUP, MigrationStatus.ACTIVE):
            self.session.final = None  # a new migration: the last one's end is history
            self.postcopy = self.postcopy and info["status"] != MigrationStatus.SETUP
        self._last = info
        return info

    async def _parameters(self, _: dict[str, Any]) -> object:
        """What libvirt tells of the migration settings, each read on its own: one it will not tell
        (a read-only connection may not read them, an inactive domain has no cache size) or that
        does not come within SETTING_TIMEOUT (seen during a migration) is left out, not the others."""
        domain = await self.host.domain(self.session.uuid)
        readers: dict[str, tuple[Callable[..., int], tuple[int, ...], int]] = {
            "downtime-limit": (domain.migrateGetMaxDowntime, (0,), 1),
            "max-bandwidth": (domain.migrateGetMaxSpeed, (0,), MiB),
            "max-postcopy-bandwidth": (domain.migrateGetMaxSpeed, (MAX_SPEED_POSTCOPY,), MiB),
            "xbzrle-cache-size": (domain.migrateGetCompressionCache, (0,), 1)}
        answers = await asyncio.gather(*(self.host.call(name, read, *args, timeout=SETTING_TIMEOUT)
                                         for name, (read, args, _unit) in readers.items()), return_exceptions=True)
        settings: dict[str, Any] = {}
        if self.tainted:
            # A change went through the passthrough already (the domain is tainted): QEMU's own values
            # are read through it too, so the form shows what that change did.
            with contextlib.suppress(MigtuiError):
                held = await self._passthrough("query-migrate-parameters", {})
                settings.update(held if isinstance(held, dict) else {})
        settings.update({name: int(answer) * unit
                         for (name, (_read, _args, unit)), answer in zip(readers.items(), answers, strict=True)
                         if not isinstance(answer, BaseException)})
        return settings

    async def _capabilities(self, _: dict[str, Any]) -> object:
        return [{"capability": name, "state": state} for name, state in self.capabilities.items()]

    async def _memory(self, _: dict[str, Any]) -> object:
        return {"base-memory": int(await self._call("maxMemory", "maxMemory")) * 1024}

    async def _no_jobs(self, _: dict[str, Any]) -> object:
        return []

    async def _no_schema(self, _: dict[str, Any]) -> object:
        # Not through the passthrough either: reading a form must not taint the domain.
        raise MigtuiError("libvirt holds the monitor: the forms come from the bundled schema of the domain's "
                          "QEMU release")

    # -- changes ----------------------------------------------------------------------

    async def _set_parameters(self, arguments: dict[str, Any]) -> object:
        others = sorted(set(arguments) - set(SETTABLE))
        if others and not self.host.entry.qmp_passthrough:
            # Refused whole, before anything changes: no half-applied settings.
            raise MigtuiError(f"libvirt sets {', '.join(SETTABLE)}; {', '.join(others)} "
                              f"{'is' if len(others) == 1 else 'are'} QEMU's own (qmp_passthrough = true on host "
                              f"{self.host.name} sends them through libvirt's monitor, which taints the domain)")
        if others:
            await self._passthrough("migrate-set-parameters", {name: arguments[name] for name in others})
        for name, value in arguments.items():
            if name == "downtime-limit":
                await self._call(name, "migrateSetMaxDowntime", int(value), 0)
            elif name == "max-bandwidth":
                await self._call(name, "migrateSetMaxSpeed", bandwidth_mib(int(value)), 0)
            elif name == "max-postcopy-bandwidth":
                await self._call(name, "migrateSetMaxSpeed", bandwidth_mib(int(value)), MAX_SPEED_POSTCOPY)
            elif name == "xbzrle-cache-size":
                await self._call(name, "migrateSetCompressionCache", int(value), 0)
        return {}

    async def _set_capabilities(self, arguments: dict[str, Any]) -> object:
        wanted = {item["capability"]: bool(item["state"]) for item in arguments.get("capabilities", [])}
        others = sorted(name for name in wanted if name not in (*FLAG_CAPABILITIES, "events"))
        if others and not self.host.entry.qmp_passthrough:
            raise MigtuiError(f"libvirt takes {', '.join(FLAG_CAPABILITIES)} as flags of its migration; "
                              f"{', '.join(others)}: qmp_passthrough = true on host {self.host.name}")
        if others:
            await self._passthrough("migrate-set-capabilities", {"capabilities": [
                {"capability": name, "state": wanted[name]} for name in others]})
        self.capabilities.update({name: state for name, state in wanted.items() if name in FLAG_CAPABILITIES})
        return {}

    async def _cancel(self, _: dict[str, Any]) -> object:
        await self._call("abortJob", "abortJob")
        return {}

    async def _postcopy(self, _: dict[str, Any]) -> object:
        await self._call("migrateStartPostCopy", "migrateStartPostCopy", 0)
        self.postcopy = True
        return {}

    async def _calc_dirty_rate(self, arguments: dict[str, Any]) -> object:
        await self._call("startDirtyRateCalc", "startDirtyRateCalc", int(arguments.get("calc-time", 1)), 0)
        return {}

    async def _dirty_rate(self, _: dict[str, Any]) -> object:
        libvirt = binding.load()
        domain = await self.host.domain(self.session.uuid)
        conn = self.host.conn
        records = await self.host.call("dirty rate", conn.domainListGetStats, [domain],
                                       libvirt.VIR_DOMAIN_STATS_DIRTYRATE, 0)
        stats = records[0][1] if records else {}
        status = {0: "unstarted", 1: "measuring", 2: "measured"}.get(stats.get("dirtyrate.calc_status", 0),
                                                                    "unstarted")
        return {"status": status, "dirty-rate": int(stats.get("dirtyrate.megabytes_per_second", 0)),
                "calc-time": int(stats.get("dirtyrate.calc_period", 0)),
                "start-time": int(stats.get("dirtyrate.calc_start_time", 0)), "mode": "page-sampling"}

    async def _migrate(self, arguments: dict[str, Any]) -> object:
        """Start libvirt's migration (``arguments`` from :func:`migtui.libvirt.migrate.migrate_arguments`);
        return once libvirt runs the job, or with libvirt's words if it refused at once."""
        if self.migration is not None and not self.migration.done():
            raise MigtuiError("a migration through libvirt runs already")
        domain = await self.host.domain(self.session.uuid)
        source = self.host
        call = source.call("migrateToURI3", domain.migrateToURI3, arguments["dconnuri"], arguments["params"],
                           int(arguments["flags"]), timeout=None)
        self.session.final = None
        self.migration = asyncio.create_task(self._follow_call(call), name=f"{self.session.name}-migrate")
        started = asyncio.get_running_loop().time()
        while not self.migration.done():
            stats = await source.call("jobStats", domain.jobStats)
            if stats.get("type", JOB_NONE) != JOB_NONE:
                return {}
            if asyncio.get_running_loop().time() - started > MIGRATION_START_WAIT:
                return {}  # still starting (a slow destination): the polls will tell
            await asyncio.wait([self.migration], timeout=0.1)
        if self.refused is not None and self.refused.code != ABORTED:
            self.session.final = None  # refused before it began: no migration to tell of
            raise self.refused
        return {}

    async def _follow_call(self, call: Awaitable[object]) -> None:
        """Wait for libvirt's migrate call; a failure becomes the migration's end (QEMU's ``failed``)."""
        self.refused = None
        try:
            await call
        except LibvirtFailure as failure:
            aborted = failure.code == ABORTED  # cancelled: the guest runs on where it was
            self.refused = failure
            self.session.final = {"status": MigrationStatus.CANCELLED if aborted else MigrationStatus.FAILED,
                                  "error-desc": failure.message}
            self.session.hear({"event": "JOB_COMPLETED", "data": {"status": self.session.final["status"],
                                                                   "error": failure.message}})
        except Exception as error:  # the host went away: the link says so
            log.info("%s: the migrate call ended: %s", self.session.name, error)

    async def _passthrough(self, command: str, arguments: dict[str, Any]) -> object:
        """A QMP command through libvirt's monitor passthrough (the host allows it); QEMU's answer."""
        import libvirt_qemu

        self.tainted = True
        domain = await self.host.domain(self.session.uuid)
        text = json.dumps({"execute": command, **({"arguments": arguments} if arguments else {})})
        answer = json.loads(await self.host.call(command, libvirt_qemu.qemuMonitorCommand, domain, text, 0))
        if "error" in answer:
            raise MigtuiError(answer["error"].get("desc", str(answer["error"])))
        return answer.get("return", {})
