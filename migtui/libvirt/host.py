"""One libvirt host of the inventory: its connection, kept up, and its domains' events.

One connection a host, shared by all its domains (as an SSH host's one
connection carries all its QMP sockets). It is opened read-only when the
host says ``read_only = true``: libvirt then refuses every change itself,
besides migtui's gate. libvirt's keepalive finds a daemon that stopped
answering; its close callback takes the host down, and the host is
connected again with backoff, its domains' links following it.

Every libvirt call runs in a worker thread (:meth:`LibvirtHost.call`):
made on the event loop, a call that waits for the daemon stalls every
other VM, and measured here two daemons dropped each other's connections
(keepalive timeout) when a migration's calls were made on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from migtui.backoff import Backoff
from migtui.errors import MigtuiError
from migtui.host_entry import HostEntry
from migtui.libvirt import binding, workers
from migtui.qmp.tasks import cancel_all

log = logging.getLogger(__name__)
Result = TypeVar("Result")

CONNECT_TIMEOUT = 10.0
CALL_TIMEOUT = 30.0
"""libvirt's own wait for a domain's job lock (30 s): a change made while a migration runs may wait
that long behind libvirt's monitor traffic (measured under TCG: more than 10 s at times)."""
RECONNECT_FIRST = 0.5
RECONNECT_MAX = 10.0
KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 2, 3
"""A daemon silent for about 2 x (3 + 1) s is taken for gone (libvirt's own default is 5 x 5)."""

# virDomainEventID and virDomainEventType (libvirt-domain.h)
EVENT_LIFECYCLE, EVENT_MIGRATION_ITERATION, EVENT_JOB_COMPLETED = 0, 20, 21
DEFINED, UNDEFINED, STARTED, SUSPENDED, RESUMED, STOPPED = 0, 1, 2, 3, 4, 5
# virErrorNumber: what says the connection itself is gone
_LINK_ERRORS = frozenset({1, 7, 38, 39, 45})  # internal, no connect, system, rpc, auth cancelled


class HostState(StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    CLOSED = "closed"


class LibvirtFailure(MigtuiError):
    """libvirt refused or failed a call: its error code and its own words."""

    def __init__(self, host: str, call: str, code: int, message: str) -> None:
        super().__init__(f"{host}: {call}: {message}")
        self.host = host
        self.call = call
        self.code = code
        self.message = message


class HostUnavailable(MigtuiError):
    """The host's libvirt connection is not up."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DomainFacts:
    """A domain as a host lists it."""

    uuid: str
    name: str
    state: int
    reason: int
    persistent: bool

    @property
    def active(self) -> bool:
        return self.state != 5  # VIR_DOMAIN_SHUTOFF


@dataclass(frozen=True)
class DomainEvent:
    """An event of one domain on one host, as libvirt sent it."""

    host: str
    uuid: str
    name: str
    kind: int
    """EVENT_LIFECYCLE, EVENT_MIGRATION_ITERATION or EVENT_JOB_COMPLETED."""
    event: int = 0
    """LIFECYCLE: DEFINED, UNDEFINED, STARTED ...; MIGRATION_ITERATION: the iteration."""
    detail: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    """JOB_COMPLETED: the job's final statistics."""


HostHandler = Callable[["LibvirtHost"], None]
DomainHandler = Callable[[DomainEvent], None]


class LibvirtHost:
    def __init__(self, entry: HostEntry, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        if entry.libvirt is None:
            raise ValueError(f"host {entry.name} has no libvirt URI")
        self.entry = entry
        self.name = entry.name
        self.uri = entry.libvirt
        self.read_only = entry.read_only
        self.connect_timeout = connect_timeout
        self.state = HostState.DOWN
        self.error: str | None = "not connected yet"
        self.conn: Any = None
        """The libvirt connection while up (a ``virConnect``)."""
        self._host_handlers: list[HostHandler] = []
        self._domain_handlers: list[DomainHandler] = []
        self._callbacks: list[int] = []
        self._down = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._backoff = Backoff(RECONNECT_FIRST, RECONNECT_MAX)
        self._lock = asyncio.Lock()
        self._told: str | None = None
        self._together = workers.Together()
        """Quick calls of one turn of the loop (idle domains' polls), run in one worker."""
        self._handles: dict[str, tuple[Any, Any]] = {}
        """UUID -> (the connection, its virDomain handle)."""
        self.announce = True
        """Log a host that is down (a fleet's way; a one-shot command says it in its own error)."""
        self._opening: asyncio.Future[tuple[Any, list[int]]] | None = None
        """The worker opening a connection, while it runs."""
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop the connection's calls and callbacks belong to (set when it connects)."""
        """The reason the host is down that was last said (not said again while it holds)."""

    @property
    def up(self) -> bool:
        return self.state is HostState.UP

    def describe_down(self) -> str:
        return f"host {self.name} down: {self.error or self.state.value}"

    def on_change(self, handler: HostHandler) -> Callable[[], None]:
        self._host_handlers.append(handler)
        return lambda: self._host_handlers.remove(handler)

    def on_domain(self, handler: DomainHandler) -> Callable[[], None]:
        self._domain_handlers.append(handler)
        return lambda: self._domain_handlers.remove(handler)

    def wanted(self, name: str) -> bool:
        """Whether the host's ``domains`` patterns take this domain (all, when it has none)."""
        patterns = self.entry.domains
        return patterns is None or any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)

    # -- the connection -------------------------------------------------------

    async def connect(self) -> None:
        """One attempt; raises :class:`HostUnavailable` with libvirt's words."""
        async with self._lock:
            if self.up:
                return
            libvirt = binding.load()
            opener = libvirt.openReadOnly if self.read_only else libvirt.open
            self._set(HostState.CONNECTING, self.error)
            self._loop = asyncio.get_running_loop()
            # Opening and subscribing are calls to the daemon: in a worker, as every call. The worker
            # is kept track of: one still opening when migtui closes is waited for and its connection
            # closed, never left to libvirt's callbacks after the loop ended.
            self._opening = asyncio.ensure_future(workers.run(self._open, opener))
            try:
                async with asyncio.timeout(self.connect_timeout):
                    conn, self._callbacks = await asyncio.shield(self._opening)
            except libvirt.libvirtError as error:
                self._set(HostState.DOWN, f"cannot connect to {self.uri}: {_words(error)}")
                raise HostUnavailable(self.describe_down()) from None
            except TimeoutError:
                self._opening.add_done_callback(_close_late)
                self._set(HostState.DOWN, f"no answer from {self.uri} within {self.connect_timeout:g} s")
                raise HostUnavailable(self.describe_down()) from None
            self.conn = conn
            self._set(HostState.UP, None)

    def _open(self, opener: Callable[[str], Any]) -> tuple[Any, list[int]]:
        """A new connection with its subscriptions (in a worker); libvirt's error if either fails."""
        conn = opener(self.uri)
        try:
            return conn, self._subscribe(conn)
        except Exception:
            _close_quietly(conn)
            raise

    def _subscribe(self, conn: Any) -> list[int]:
        """Keepalive, the close callback and the domains' events on a new connection (in a worker)."""
        with contextlib.suppress(Exception):  # a daemon without keepalive still works
            conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        conn.registerCloseCallback(self._closed, None)
        return [conn.domainEventRegisterAny(None, event, handler, None)
                for event, handler in ((EVENT_LIFECYCLE, self._lifecycle),
                                       (EVENT_MIGRATION_ITERATION, self._iteration),
                                       (EVENT_JOB_COMPLETED, self._job_completed))]

    def start(self) -> None:
        """Keep the connection up until :meth:`close`."""
        self._tasks.append(asyncio.create_task(self._maintain(), name=f"libvirt {self.name}"))

    async def _maintain(self) -> None:
        while True:
            if not self.up:
                try:
                    await self.connect()
                except HostUnavailable:
                    await self._backoff.wait()
                    continue
            self._backoff.reset()
            self._down.clear()
            await self._down.wait()

    def _closed(self, conn: Any, reason: int, _opaque: object) -> None:
        """libvirt's close callback: the daemon went away, or its keepalive ran out. libvirt calls it
        from whichever thread found out (a worker's call among them): hand it to the loop."""
        why = {0: "libvirt's connection failed", 1: "libvirtd closed the connection",
               2: "libvirtd stopped answering (keepalive)"}.get(reason, "the connection closed")
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._fell, conn, why)

    def _fell(self, conn: Any, why: str) -> None:
        """The connection ``conn`` fell (on the loop): the host is down until it is connected again."""
        if conn is not self.conn:
            return  # told already (a call's failure and the close callback both tell it)
        self.conn, self._callbacks = None, []
        self._handles.clear()
        if self.state is not HostState.CLOSED:
            self._set(HostState.DOWN, why)
        self._down.set()
        # The connection is dead: closing it asks nothing of the daemon, and libvirtaio's handles
        # must be removed on the loop's thread.
        _close_quietly(conn)

    async def close(self) -> None:
        await cancel_all(self._tasks)
        if self._opening is not None and not self._opening.done():
            with contextlib.suppress(Exception):  # an open still under way: its connection is closed too
                async with asyncio.timeout(self.connect_timeout):
                    late, callbacks = await asyncio.shield(self._opening)
                async with asyncio.timeout(CALL_TIMEOUT):
                    await workers.run(_unsubscribe, late, callbacks)
                _close_quietly(late)
        conn, self.conn = self.conn, None
        self._set(HostState.CLOSED, None)
        callbacks, self._callbacks = self._callbacks, []
        # A domain handle holds its connection: the connection ends (and libvirt removes its
        # handles from the loop) only when the last handle is gone, which must be while the loop runs.
        self._handles.clear()
        if conn is not None:
            with contextlib.suppress(TimeoutError):  # a daemon that does not answer: closed all the same
                async with asyncio.timeout(CALL_TIMEOUT):
                    await workers.run(_unsubscribe, conn, callbacks)
            # On the loop: closing removes the connection's handles from libvirtaio, which must
            # happen on the loop's thread (and before the loop ends: binding.drain()).
            _close_quietly(conn)

    def _set(self, state: HostState, error: str | None) -> None:
        if (state, error) == (self.state, self.error):
            return
        if state is HostState.DOWN and error is not None and error != self._told and self.announce:
            # Said once (its VMs' links say it too; a host with no domain known yet has only this line).
            log.warning("%s: libvirt host down: %s", self.name, error)
            self._told = error
        if state is HostState.UP:
            self._told = None
        self.state, self.error = state, error
        for handler in list(self._host_handlers):
            handler(self)

    # -- calls ------------------------------------------------------------------

    async def call(self, what: str, fn: Callable[..., Result], *args: Any,
                   timeout: float | None = CALL_TIMEOUT, quick: bool = False) -> Result:
        """``fn(*args)`` in a worker thread; libvirt's errors as :class:`LibvirtFailure`.

        A ``quick`` call, one libvirt answers without asking QEMU (an idle domain's jobStats), shares
        its worker with the other quick calls of this turn of the loop.
        """
        if self.conn is None:
            raise HostUnavailable(self.describe_down())
        conn = self.conn
        try:
            # Any other call has a worker of its own: a migrating domain's jobStats waits for QEMU,
            # and must not hold up the other domains' polls.
            answer = self._together.run(fn, *args) if quick else workers.run(fn, *args)
            if timeout is None:
                return await answer
            async with asyncio.timeout(timeout):
                return await answer
        except TimeoutError:
            raise LibvirtFailure(self.name, what, -1, f"no answer from libvirtd within {timeout:g} s") from None
        except binding.require().libvirtError as error:
            code = error.get_error_code() or 0
            if code in _LINK_ERRORS and not _alive(conn):
                self._fell(conn, _words(error))
                raise HostUnavailable(self.describe_down()) from None
            raise LibvirtFailure(self.name, what, code, _words(error)) from None

    async def domain(self, uuid: str) -> Any:
        """The host's ``virDomain`` of that UUID (LibvirtFailure code 42 when it has none)."""
        conn = self.conn
        if conn is None:
            raise HostUnavailable(self.describe_down())
        if self._handles.get(uuid, (None,))[0] is not conn:
            # Kept per connection: a poll is then one call to the daemon (jobStats), not two. A handle
            # names the domain by UUID: one that is gone answers as a lookup would (no domain).
            self._handles[uuid] = (conn, await self.call("lookup", conn.lookupByUUIDString, uuid))
        return self._handles[uuid][1]

    async def domains(self) -> list[DomainFacts]:
        """Every domain of the host, defined or running, that its ``domains`` patterns take."""
        conn = self.conn
        if conn is None:
            raise HostUnavailable(self.describe_down())
        return [facts for facts in await self.call("list domains", _list_domains, conn) if self.wanted(facts.name)]

    # -- events (libvirtaio calls these on the loop) ------------------------------

    def _lifecycle(self, _conn: Any, dom: Any, event: int, detail: int, _opaque: object) -> None:
        self._tell(DomainEvent(self.name, dom.UUIDString(), dom.name(), EVENT_LIFECYCLE, event, detail))

    def _iteration(self, _conn: Any, dom: Any, iteration: int, _opaque: object) -> None:
        self._tell(DomainEvent(self.name, dom.UUIDString(), dom.name(), EVENT_MIGRATION_ITERATION, iteration))

    def _job_completed(self, _conn: Any, dom: Any, figures: dict[str, Any], _opaque: object) -> None:
        self._tell(DomainEvent(self.name, dom.UUIDString(), dom.name(), EVENT_JOB_COMPLETED, figures=dict(figures)))

    def _tell(self, event: DomainEvent) -> None:
        if not self.wanted(event.name):
            return
        for handler in list(self._domain_handlers):
            try:
                handler(event)
            except Exception:  # one bad subscriber must not stop libvirt's event dispatch
                log.exception("libvirt event handler failed on %r", event)


def _list_domains(conn: Any) -> list[DomainFacts]:
    facts = []
    for dom in conn.listAllDomains(0):
        try:
            state, reason = dom.state()
            facts.append(DomainFacts(dom.UUIDString(), dom.name(), state, reason, bool(dom.isPersistent())))
        except Exception:  # gone between the listing and the look
            continue
    return facts


def _alive(conn: Any) -> bool:
    try:
        return bool(conn.isAlive())
    except Exception:
        return False


def _unsubscribe(conn: Any, callbacks: list[int]) -> None:
    """Stop the connection's events and close callback (calls to the daemon: in a worker)."""
    for callback in callbacks:
        with contextlib.suppress(Exception):
            conn.domainEventDeregisterAny(callback)
    with contextlib.suppress(Exception):
        conn.unregisterCloseCallback()


def _close_late(opening: asyncio.Future[tuple[Any, list[int]]]) -> None:
    """A connection that opened after migtui stopped waiting for it: closed at once."""
    if not opening.cancelled() and opening.exception() is None:
        conn, callbacks = opening.result()
        _unsubscribe(conn, callbacks)
        _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()


def _words(error: Any) -> str:
    """libvirt's message, on one line."""
    return " ".join(str(error.get_error_message() or error).split())
