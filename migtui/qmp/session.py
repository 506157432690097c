"""One VM's QMP link: connect, reconnect, commands with timeouts, events.

A :class:`VMSession` wraps one ``qemu.qmp.QMPClient`` for its whole life (the
client object is reused across reconnects, so listeners stay registered).
Every command goes through the :class:`~migtui.qmp.gate.CommandGate`.

Two ways to use it:

* one-shot (CLI): ``async with VMSession(...) as vm:`` connects once and
  raises :class:`Unreachable` if it cannot;
* long-lived (fleet, dashboard): :meth:`start` keeps a link up, reconnecting
  with jittered backoff when QEMU goes away and comes back.

Two ways to hold the socket (QEMU serves one client per QMP socket; a second
one gets no greeting until the first lets go):

* held (the default): one connection for the session's life, events heard
  as they come;
* shared (``shared=True``, for a socket another tool uses, as Proxmox VE's
  do): a connection per :meth:`exchange` (a poll, a command), let go at once
  (:mod:`migtui.qmp.shared_link`). A socket whose greeting does not come
  within ``exchange_budget`` seconds is another client's for now: the link
  is :attr:`LinkState.BUSY`, not down. Between exchanges nothing is heard:
  the poller derives the migration's events from its answers
  (:mod:`migtui.model.derived_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from qemu.qmp import EventListener, ExecInterruptedError, ExecuteError, Runstate, StateError

from migtui.backoff import Backoff
from migtui.errors import MigtuiError
from migtui.host_entry import HostEntry
from migtui.model.link import LinkState
from migtui.qmp.client import Client
from migtui.qmp.errors import (
    CommandTimeout,
    LinkLost,
    QEMURefused,
    QMPFailure,
    SocketBusy,
    Unreachable,
    describe_connect_error,
    describe_link_error,
    refusal,
)
from migtui.qmp.gate import CommandGate
from migtui.qmp.monitor_rules import QMPMonitorRules
from migtui.qmp.remote_socket import Address, RemoteSocket
from migtui.qmp.replies import JSONObject, json_object, json_objects
from migtui.qmp.shared_link import EXCHANGE_BUDGET, SharedLink
from migtui.qmp.tasks import cancel_all

if TYPE_CHECKING:
    from migtui.qmp.ssh_host import SSHHost

# qemu.qmp logs dropped late replies (after a command timed out) as warnings;
# without a handler Python would print them over the dashboard.
logging.getLogger("qemu.qmp").addHandler(logging.NullHandler())
log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0
RECONNECT_FIRST = 0.5
RECONNECT_MAX = 10.0
BUSY_RETRY_MAX = 2.0
"""The longest wait between two tries of a busy shared socket: the owner's batches are short."""

_DEFAULT = object()
_NO_DEADLINE = contextlib.nullcontext()
"""For a command with no time limit (every poll's): asyncio.timeout(None) would cost a few µs each."""


EventHandler = Callable[[str, dict[str, Any]], None]
LinkHandler = Callable[[str, LinkState, str | None], None]


class VMSession(QMPMonitorRules):
    def __init__(self, name: str, address: Address, gate: CommandGate | None = None, *,
                 connect_timeout: float = CONNECT_TIMEOUT, command_timeout: float = COMMAND_TIMEOUT,
                 host_entry: HostEntry | None = None, shared: bool = False,
                 exchange_budget: float = EXCHANGE_BUDGET) -> None:
        self.name = name
        self.address = address
        self.gate = gate or CommandGate()
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.state = LinkState.DISCONNECTED
        self.error: str | None = None
        """Why the link is down (None while connected)."""
        self.version: JSONObject | None = None
        """QEMU's ``query-version`` answer (None before the first connect)."""
        self._client = Client(name)
        self._connected = asyncio.Event()
        self._event_handlers: list[EventHandler] = []
        self._link_handlers: list[LinkHandler] = []
        self._inflight: dict[int, float] = {}
        self._next_call = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._backoff = Backoff(RECONNECT_FIRST, RECONNECT_MAX)
        self._pumping = False
        """Whether the event pump runs: one for the session's life (the client and
        its listeners survive reconnects)."""
        self._shared = SharedLink(name, address, hear=self.hear, set_link=self._set_shared_link,
                                  budget=exchange_budget) if shared else None
        """How a shared link holds the socket (None: held for the session's life)."""
        self._down = asyncio.Event()
        """Set while the link is not connected (a shared link's keeper waits for it)."""
        self._down.set()
        self.host: SSHHost | None = address.host if isinstance(address, RemoteSocket) else None
        """The SSH host the socket is on (None: this machine)."""
        self.host_entry = host_entry if host_entry is not None else (self.host.entry if self.host else None)
        """The inventory's host the VM runs on, SSH or not (None: none named): where its
        destinations listen."""
        self.wake_poll: Callable[[], None] = lambda: None
        """Asks the VM's poller for a poll now (its poller sets it): for what is not an event of QEMU's."""
        self.outgoing_uri: str | None = None
        """Where the last migration migtui started from this VM goes (None: none started by migtui):
        what tells the path it takes."""
        if self.host is not None:
            self.host.on_change(self._on_host)

    # -- life cycle ---------------------------------------------------------

    async def __aenter__(self) -> VMSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """One attempt to connect; raises :class:`Unreachable` with the reason.

        A shared link makes one exchange (reads QEMU's version) and lets go."""
        if self.shared:
            try:
                async with self.exchange():
                    self.version = await self.query("query-version")
            except Unreachable:
                raise  # busy, or gone: the link says so already
            except MigtuiError as failure:  # the exchange fell, or QEMU's answer was not one
                reason = getattr(failure, "reason", None) or str(failure)
                self._set_link(LinkState.DISCONNECTED, reason)
                raise Unreachable(self.name, reason) from None
            self._set_link(LinkState.CONNECTED, None)
            return
        if self.error is None:  # a retry after a failure stays "disconnected (why)" until it succeeds
            self._set_link(LinkState.CONNECTING, None)
        try:
            async with asyncio.timeout(self.connect_timeout):
                await self._open()
        except Exception as error:
            await self._quiet_disconnect()
            reason = describe_connect_error(self.address, error)
            self._set_link(LinkState.DISCONNECTED, reason)
            raise Unreachable(self.name, reason) from None
        if not self._pumping:
            self._pumping = True
            self._tasks.append(asyncio.create_task(self._pump_events(), name=f"{self.name}-events"))
        try:
            self.version = await self.query("query-version")
        except QMPFailure as failure:
            await self._quiet_disconnect()
            self._set_link(LinkState.DISCONNECTED, failure.reason)
            raise Unreachable(self.name, failure.reason) from None
        self._set_link(LinkState.CONNECTED, None)

    async def _open(self) -> None:
        if isinstance(self.address, RemoteSocket):
            streams = await self.address.host.open_streams(self.address.path, self._client.readbuflen)
            await self._client.connect(streams)  # type: ignore[arg-type]  # Client takes Streams too
        else:
            await self._client.connect(self.address)

    def _on_host(self, host: SSHHost) -> None:
        """A host that went down takes its VMs' links with it: say so, not each one's own timeout."""
        if not host.up and self.state is not LinkState.CLOSED:
            self._set_link(LinkState.DISCONNECTED, host.describe_down())

    def start(self) -> None:
        """Keep the link up in the background until :meth:`close`."""
        keep = self._keep_shared() if self.shared else self._maintain()
        self._tasks.append(asyncio.create_task(keep, name=f"{self.name}-link"))

    async def close(self) -> None:
        await cancel_all(self._tasks)
        if self._shared is not None:
            self._shared.close()
        await self._quiet_disconnect()
        self._set_link(LinkState.CLOSED, None)

    async def wait_connected(self) -> None:
        await self._connected.wait()

    @property
    def shared(self) -> bool:
        """Connect per exchange and let go at once (another tool uses the socket too)."""
        return self._shared is not None

    def _set_shared_link(self, state: LinkState, error: str | None) -> None:
        if self.state is not LinkState.CLOSED:  # a late exchange's end says nothing after close
            self._set_link(state, error)

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    @property
    def unanswered_for(self) -> float:
        """Seconds the oldest command still waiting for QEMU has waited (0 if none)."""
        if not self._inflight:
            return 0.0
        return time.monotonic() - min(self._inflight.values())

    async def _maintain(self) -> None:
        while True:
            await self._host_up()
            if not self.connected:
                try:
                    await self.connect()
                except Unreachable:
                    await self._backoff.wait()
                    continue
            self._backoff.reset()
            while self._client.runstate is Runstate.RUNNING:
                await self._client.runstate_changed()
            reason = await self._quiet_disconnect()
            if self.host is not None and not self.host.up:
                reason = self.host.describe_down()
            self._set_link(LinkState.DISCONNECTED, reason)

    async def _keep_shared(self) -> None:
        """A shared link's keeper: while it is down or busy, try an exchange now and then.

        Polls and commands open their own exchanges; one that fails marks the
        link busy or down, and this loop finds out when QEMU answers again.
        """
        while True:
            await self._down.wait()
            await self._host_up()
            try:
                await self.connect()
            except Unreachable as failure:
                await self._backoff.wait(BUSY_RETRY_MAX if isinstance(failure, SocketBusy) else None)
                continue
            self._backoff.reset()

    async def _host_up(self) -> None:
        """While the SSH host the socket is on is down, the link is too: said once, and waited out."""
        if self.host is not None and not self.host.up:
            self._set_link(LinkState.DISCONNECTED, self.host.describe_down())
            await self.host.wait_up()

    @contextlib.asynccontextmanager
    async def exchange(self) -> AsyncIterator[None]:
        """Around a batch of commands (a poll): a shared link's one connection for them
        (:class:`SharedLink`); held links are always connected: nothing to do."""
        if self._shared is None:
            yield
            return
        async with self._shared.exchange():
            yield

    async def _quiet_disconnect(self) -> str:
        """Disconnect; return why the link fell (disconnect() re-raises the cause)."""
        try:
            await self._client.disconnect()
        except Exception as error:  # the cause of an earlier drop, re-raised here
            return describe_link_error(error)
        return describe_link_error(None)

    def _set_link(self, state: LinkState, error: str | None) -> None:
        if state is LinkState.CONNECTED:
            self._connected.set()
            self._down.clear()
        else:
            self._connected.clear()
            self._down.set()
        if state is self.state and error == self.error:
            return
        self.state, self.error = state, error
        for handler in list(self._link_handlers):
            handler(self.name, state, error)

    # -- commands -----------------------------------------------------------

    async def query(self, command: str, arguments: dict[str, Any] | None = None,
                    timeout: float | object | None = _DEFAULT) -> JSONObject:
        """:meth:`execute` for a command that answers a JSON object (raises UnexpectedAnswer otherwise)."""
        return json_object(self.name, command, await self.execute(command, arguments, timeout))

    async def query_list(self, command: str, arguments: dict[str, Any] | None = None,
                         timeout: float | object | None = _DEFAULT) -> list[JSONObject]:
        """:meth:`execute` for a command that answers an array of objects (``query-jobs``...)."""
        return json_objects(self.name, command, await self.execute(command, arguments, timeout))

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | object | None = _DEFAULT) -> object:
        """Run a command through the gate; return QEMU's answer, a JSON value.

        ``timeout`` defaults to the session's command timeout; ``None`` waits
        as long as QEMU takes (snapshot jobs keep QMP silent for seconds).
        """
        audited = self.gate.admit(self.name, command, arguments, self.read_only_reason)
        if not self.shared:
            return await self._send(audited, command, arguments, timeout)
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.exchange())
            except QMPFailure as failure:  # busy or gone: nothing was sent, and the log says so
                self._settle(audited, command, arguments, "error", failure.reason)
                raise
            return await self._send(audited, command, arguments, timeout)
        raise AssertionError("unreachable")  # mypy: the stack does not swallow exceptions

    async def _send(self, audited: bool, command: str, arguments: dict[str, Any] | None,
                    timeout: float | object | None) -> object:
        """Send one command on the open connection and wait for its answer (settled in the audit log)."""
        if not self._transport_up():
            failure: QMPFailure = LinkLost(self.name, f"not connected ({self.error or 'connecting'})")
            self._settle(audited, command, arguments, "error", failure.reason)
            raise failure
        limit = self.command_timeout if timeout is _DEFAULT else cast("float | None", timeout)
        call = self._next_call = self._next_call + 1
        self._inflight[call] = time.monotonic()
        try:
            async with asyncio.timeout(limit) if limit is not None else _NO_DEADLINE:
                result = await self._transport_execute(command, arguments)
        except (ExecuteError, QEMURefused) as error:
            refused = error if isinstance(error, QEMURefused) else refusal(self.name, command, error)
            self._settle(audited, command, arguments, "error", {"class": refused.error_class, "desc": refused.desc})
            raise refused from None
        except TimeoutError:
            failure = CommandTimeout(self.name, f"{command}: no answer from QEMU within {limit:g} s")
            self._settle(audited, command, arguments, "timeout", failure.reason)
            raise failure from None
        except (ExecInterruptedError, StateError, OSError, EOFError, ValueError):
            failure = LinkLost(self.name, f"{command}: connection lost before QEMU answered")
            self._settle(audited, command, arguments, "error", failure.reason)
            raise failure from None
        except asyncio.CancelledError:
            # Sent, but we stopped waiting: QEMU may well have acted on it, so it is logged.
            self._settle(audited, command, arguments, "cancelled", "stopped waiting for QEMU's answer")
            raise
        finally:
            self._inflight.pop(call, None)
        self._settle(audited, command, arguments, "ok", result or None)
        return result

    def _transport_up(self) -> bool:
        """Whether a command can be sent now (a held link: connected; a shared one: in an exchange)."""
        return self._shared.up if self._shared is not None else self._client.runstate is Runstate.RUNNING

    async def _transport_execute(self, command: str, arguments: dict[str, Any] | None) -> object:
        """Send one command and return QEMU's answer (raises what qemu.qmp raises)."""
        return await (self._shared or self._client).execute(command, arguments)

    @property
    def derives_events(self) -> bool:
        """Whether the poller derives the migration's events from its answers (nothing hears them)."""
        return self.shared

    def _settle(self, audited: bool, command: str, arguments: dict[str, Any] | None, outcome: str,
                detail: Any) -> None:
        if audited:
            self.gate.settle(self.name, command, arguments, outcome, detail)

    # -- events -------------------------------------------------------------

    def on_event(self, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler(vm, event)`` for every QMP event; returns an unsubscribe."""
        self._event_handlers.append(handler)
        return lambda: self._event_handlers.remove(handler)

    def on_link(self, handler: LinkHandler) -> Callable[[], None]:
        """Call ``handler(vm, state, error)`` when the link changes; returns an unsubscribe."""
        self._link_handlers.append(handler)
        return lambda: self._link_handlers.remove(handler)

    @contextlib.contextmanager
    def listener(self, names: str | list[str] | None = None,
                 event_filter: Callable[[Any], bool] | None = None) -> Iterator[EventListener]:
        """A qemu.qmp listener for one purpose (e.g. one job's events), removed on exit."""
        with self._client.listener(names or (), event_filter) as listener:
            yield listener

    async def _pump_events(self) -> None:
        """Drain the client's built-in all-events listener into our handlers.

        qemu.qmp keeps every event in that listener's history forever; we
        forget each one once handled so a week-long session stays small.
        """
        events = self._client.events
        async for event in events:
            events._history.clear()  # no public way to bound it (qemu.qmp 0.0.x)
            record = dict(event)
            self.hear(record)

    def hear(self, record: dict[str, Any]) -> None:
        """Tell the event handlers of an event (QEMU's, or one derived from polls on a shared link)."""
        for handler in list(self._event_handlers):
            try:
                handler(self.name, record)
            except Exception:  # one bad subscriber must not stop the stream
                log.exception("event handler failed for %s", self.name)
