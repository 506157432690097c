"""A host reached over SSH: one connection carrying every QMP socket of its VMs.

The connection is asyncssh's, in-process. Each VM's socket is a direct
stream to the remote unix socket (what ``ssh -L local:/remote`` does without
a local file), read and written by qemu.qmp as an asyncio stream
(:mod:`migtui.qmp.ssh_stream`).

Host keys are checked against known_hosts (from the ssh_config, else
``~/.ssh/known_hosts``). An unknown or changed key is refused with its
fingerprint; ``host_keys = "accept-new"`` trusts a host's first key and
appends it, as OpenSSH's ``StrictHostKeyChecking accept-new`` does.

A host has a state of its own. Kept up by :meth:`SSHHost.start`, it
reconnects with jittered backoff; while it is down its VMs say "host down"
and wait for it, instead of each timing out on its own.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import asyncssh
from asyncssh.encryption import get_default_encryption_algs

from migtui.backoff import Backoff
from migtui.errors import MigtuiError
from migtui.host_entry import HostEntry
from migtui.qmp.client import Streams
from migtui.qmp.ssh_stream import open_streams
from migtui.qmp.ssh_tcp import TunedTCP
from migtui.qmp.tasks import cancel_all

log = logging.getLogger(__name__)
logging.getLogger("asyncssh").addHandler(logging.NullHandler())
logging.getLogger("asyncssh").propagate = False  # its info lines would print over the dashboard


class _ProxyReapedTwice(logging.Filter):
    """asyncssh closes a ProxyCommand (the lab's ssh_config has one) with asyncio's ``transport.close()``,
    whose ``Popen.poll()`` can reap the command just as Python 3.11's child watcher ``waitpid()``s for it;
    the watcher then logs "Unknown child process pid N, will report returncode 255", which would print on
    the terminal. Harmless (the tunnel was being closed) and not migtui's words: that line alone is dropped.
    Seen under load (the test suite on parallel workers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg.startswith("Unknown child process pid") if isinstance(record.msg, str) else False)


logging.getLogger("asyncio").addFilter(_ProxyReapedTwice())

CONNECT_TIMEOUT = 10.0
KEEPALIVE_S = 5  # a dead link is noticed within about 3 of these
RECONNECT_FIRST = 0.5
RECONNECT_MAX = 10.0
GCM_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
"""Preferred to asyncssh's first choice, chacha20-poly1305: AES-GCM is one OpenSSL call a
packet (AES-NI), chacha20-poly1305 several; QMP over SSH is many small packets (bench_ssh.py)."""


class HostState(StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


LIST_TIMEOUT = 10.0
"""How long listing a host's sockets may take (a login's shell, one directory)."""


class HostUnavailable(MigtuiError):
    """The host, or a socket on it, cannot be reached; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


HostHandler = Callable[["SSHHost"], None]


class _KeyCheck(asyncssh.SSHClient):
    """Remembers the key a server offered that known_hosts does not hold; with
    accept-new, trusts it when known_hosts has no key at all for the host."""

    def __init__(self, host: SSHHost) -> None:
        self._host = host

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self._host.offered_key = key
        files = self._host.known_hosts_files
        known = _keys_for(files, host, addr, port)
        self._host.key_changed = bool(known)
        if known or self._host.entry.host_keys != "accept-new":
            return False
        name = host if port in (22, None) else f"[{host}]:{port}"
        self._host.accepted = name.encode() + b" " + key.export_public_key("openssh").strip() + b"\n"
        return True  # written to known_hosts once the server has proved it holds the key


def _remember(files: list[str], line: bytes) -> None:
    target = Path(files[0] if files else "~/.ssh/known_hosts").expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("ab") as file:
        file.write(line)
    log.info("accepted a new host key into %s: %s", target, line.decode().strip())


def _existing(files: list[str]) -> list[str]:
    """The known_hosts files there are (none yet, as on a new account: every key is
    unknown, and is refused with its fingerprint, or taken by accept-new)."""
    return [str(Path(f).expanduser()) for f in files if Path(f).expanduser().is_file()]


def _keys_for(files: list[str], host: str, addr: str, port: int | None) -> list[asyncssh.SSHKey]:
    existing = _existing(files)
    if not existing:
        return []
    known = asyncssh.read_known_hosts(existing)
    found = known.match(host, addr, port if port != 22 else None)
    return list(found[0])


class SSHHost:
    """One host of the inventory, its SSH connection and its state."""

    def __init__(self, entry: HostEntry, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        if entry.destination is None:
            raise ValueError(f"host {entry.name} has no ssh destination")
        self.entry = entry
        self.name = entry.name
        self.destination = entry.destination
        self.connect_timeout = connect_timeout
        self.state = HostState.DOWN
        self.error: str | None = "not connected yet"
        self.known_hosts_files: list[str] = []
        self.offered_key: asyncssh.SSHKey | None = None
        self.key_changed = False
        self.accepted: bytes | None = None
        """The known_hosts line of a key accept-new took, until it is written."""
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self._handlers: list[HostHandler] = []
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._maintained = False
        self._failed: str | None = None
        """Why the one attempt failed, when the connection is not kept up (a command's run)."""
        self._backoff = Backoff(RECONNECT_FIRST, RECONNECT_MAX)

    @property
    def up(self) -> bool:
        return self.state is HostState.UP

    def describe_down(self) -> str:
        """What a VM of this host says while the host is not up."""
        if self.state in (HostState.CONNECTING, HostState.RECONNECTING):
            return f"host {self.name} {self.state.value}" + (f" (down: {self.error})" if self.error else "")
        return f"host {self.name} down: {self.error or self.state.value}"

    def on_change(self, handler: HostHandler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    def _set(self, state: HostState, error: str | None) -> None:
        if (state, error) == (self.state, self.error):
            return
        self.state, self.error = state, error
        for handler in list(self._handlers):
            handler(self)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_up(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.up or self.state is HostState.CLOSED)

    # -- the connection -------------------------------------------------------

    async def connection(self) -> asyncssh.SSHClientConnection:
        """The live connection; makes one attempt unless :meth:`start` keeps it up."""
        if self._conn is not None and self.up:
            return self._conn
        if self._maintained:
            raise HostUnavailable(self.describe_down())
        async with self._lock:  # VMs asking at once share one attempt, and its failure
            if self._failed is not None:
                raise HostUnavailable(self._failed)
            if self._conn is None or not self.up:
                try:
                    await self._connect(HostState.CONNECTING)
                except HostUnavailable as unavailable:
                    self._failed = unavailable.reason
                    raise
        assert self._conn is not None
        return self._conn

    async def _connect(self, state: HostState) -> None:
        self._set(state, self.error if state is HostState.RECONNECTING else None)
        try:
            self._conn = await self._open()
        except Exception as error:
            reason = self._why(error)
            self._set(HostState.DOWN, reason)
            raise HostUnavailable(self.describe_down()) from None
        self._set(HostState.UP, None)

    async def _open(self) -> asyncssh.SSHClientConnection:
        dest = self.destination
        config = [str(self.entry.ssh_config)] if self.entry.ssh_config else ()
        options = await asyncssh.SSHClientConnectionOptions.construct(
            None, config=config, host=dest.host, port=dest.port or (), username=dest.user or ())
        ours: dict[str, object] = {}
        if not options.keepalive_interval:  # the config's ServerAliveInterval wins when it sets one
            ours.update(keepalive_interval=KEEPALIVE_S, keepalive_count_max=3)
        defaults = [alg.decode() for alg in get_default_encryption_algs()]
        if [alg.decode() for alg in options.encryption_algs] == defaults:  # the config's Ciphers win too
            ours["encryption_algs"] = [*GCM_CIPHERS, *(alg for alg in defaults if alg not in GCM_CIPHERS)]
        if ours:
            options = await asyncssh.SSHClientConnectionOptions.construct(options, **ours)
        known = options.known_hosts
        if known is None:  # UserKnownHostsFile none: asyncssh would check nothing
            raise HostUnavailable("the ssh_config sets no known_hosts file: host keys could not be checked")
        self.known_hosts_files = [str(f) for f in known] if isinstance(known, (list, tuple)) and known else \
            ["~/.ssh/known_hosts"]
        self.offered_key, self.key_changed, self.accepted = None, False, None
        # A ProxyJump or ProxyCommand of the config is the connection's way; else ours.
        tunnel = () if options.tunnel or options.proxy_command else TunedTCP(options.family, options.local_addr)
        # The config's ConnectTimeout wins when shorter. The wait is ours, not asyncssh's: its
        # asyncio.wait_for (Python 3.11) drops a close's cancellation that comes as the login ends.
        limit = min(self.connect_timeout, options.connect_timeout or self.connect_timeout)
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                conn = await asyncssh.connect(dest.host, tunnel=tunnel, options=options, config=config,
                                              known_hosts=_existing(self.known_hosts_files) or b"",
                                              client_factory=lambda: _KeyCheck(self), connect_timeout=None)
        except TimeoutError:
            if not deadline.expired():
                raise  # the kernel's (a TCP connect that timed out): an OSError like any other
            raise HostUnavailable(f"no SSH answer from {dest} within {limit:g} s") from None
        if self.accepted is not None:
            _remember(self.known_hosts_files, self.accepted)
        return conn

    def _why(self, error: BaseException) -> str:
        where = str(self.destination)
        if isinstance(error, HostUnavailable):
            return error.reason
        if isinstance(error, asyncssh.HostKeyNotVerifiable) and self.offered_key is not None:
            key = self.offered_key
            seen = f"{key.get_algorithm()} {key.get_fingerprint()}"
            files = ", ".join(self.known_hosts_files)
            if self.key_changed:
                return (f"the host key of {where} changed ({seen}), known_hosts ({files}) holds another: "
                        "refused (if the host was reinstalled, remove its old line)")
            return (f"the host key of {where} is unknown ({seen}), not in {files}: refused "
                    "(check the fingerprint, then add it, or set host_keys = \"accept-new\")")
        if isinstance(error, asyncssh.PermissionDenied):
            return f"SSH login to {where} refused (no key it accepts: {error.reason})"
        if isinstance(error, asyncssh.Error):
            return f"SSH to {where}: {error.reason}"
        if isinstance(error, OSError):
            return f"cannot reach {where}: {error.strerror or error}"
        return f"SSH to {where}: {error or type(error).__name__}"

    def start(self) -> None:
        """Keep the connection up until :meth:`close`, reconnecting with jittered backoff."""
        self._maintained = True
        self._tasks.append(asyncio.create_task(self._maintain(), name=f"{self.name}-ssh"))

    async def _maintain(self) -> None:
        state = HostState.CONNECTING
        while True:
            try:
                await self._connect(state)
            except HostUnavailable:
                await self._backoff.wait()
                state = HostState.RECONNECTING
                continue
            self._backoff.reset()
            assert self._conn is not None
            await self._conn.wait_closed()
            self._conn = None
            self._set(HostState.DOWN, "SSH connection lost")
            state = HostState.RECONNECTING

    async def close(self) -> None:
        await cancel_all(self._tasks)
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()
            self._conn = None
        self._set(HostState.CLOSED, None)

    # -- sockets on the host --------------------------------------------------

    async def list_sockets(self, pattern: str, timeout: float = LIST_TIMEOUT) -> list[str]:
        """The unix sockets on the host whose paths match ``pattern``, expanded by the host's shell
        (:func:`migtui.socket_pattern.check_pattern` lets through only what means the same there).

        A login whose key forces a command of its own (``command="find /var/run/qemu-server
        -type s"``) answers with that command's lines instead: a read-only login lists sockets so."""
        conn = await self.connection()
        command = f'for f in {pattern}; do [ -S "$f" ] && printf "%s\\n" "$f"; done; true'
        try:
            result = await conn.run(command, check=False, timeout=timeout)
        except (asyncssh.Error, OSError, TimeoutError) as error:
            raise HostUnavailable(f"host {self.name}: cannot list {pattern}: "
                                  f"{getattr(error, 'reason', None) or error or type(error).__name__}") from None
        output = result.stdout if isinstance(result.stdout, str) else ""
        # A forced command lists what it lists: the pattern still decides.
        return [line for line in output.splitlines() if fnmatch.fnmatchcase(line, pattern)]

    async def open_streams(self, path: str, limit: int) -> Streams:
        """Streams connected to the unix socket ``path`` on the host (``limit``: the
        reader's line limit). They end with the connection."""
        conn = await self.connection()
        try:
            return await open_streams(conn, path, limit)
        except asyncssh.ChannelOpenError as error:
            raise HostUnavailable(f"QMP socket {path} cannot be opened on host {self.name} "
                                  f"(sshd: {error.reason}: no such socket, or not allowed)") from None
        except (asyncssh.Error, OSError) as error:
            raise HostUnavailable(f"host {self.name}: {getattr(error, 'reason', None) or error}") from None
