"""What can go wrong talking to a VM, each said in one line."""

from __future__ import annotations

import errno
from typing import Any

from qemu.qmp import ConnectError, ExecInterruptedError, ExecuteError, StateError
from qemu.qmp.error import ProtocolError
from qemu.qmp.qmp_client import GreetingError, NegotiationError

from migtui.errors import MigtuiError


class QMPFailure(MigtuiError):
    """A VM could not be reached or did not answer."""

    def __init__(self, vm: str, message: str) -> None:
        super().__init__(f"{vm}: {message}")
        self.vm = vm
        self.reason = message


class Unreachable(QMPFailure):
    """The VM's QMP socket could not be connected."""


class SocketBusy(Unreachable):
    """A shared socket's greeting did not come within the exchange's budget: another client holds it."""


BUSY_REASON = "another client holds it"
"""Why a shared link is busy (its state says busy: the two read "busy (another client holds it)")."""


class LinkLost(QMPFailure):
    """The connection dropped (QEMU exited or closed the socket)."""


class CommandTimeout(QMPFailure):
    """QEMU did not answer in time; the link may still be up (a busy VM)."""


class ReadOnlyRefusal(MigtuiError):
    """A mutating command was refused by the read-only policy; nothing was sent."""


class UnexpectedAnswer(MigtuiError):
    """QEMU answered, but not in the shape the command's answer has (a newer or odd QEMU)."""

    def __init__(self, vm: str, command: str, detail: str) -> None:
        self.reason = f"{command}: unexpected answer from QEMU: {detail}"
        super().__init__(f"{vm}: {self.reason}")
        self.vm = vm
        self.command = command


class QEMURefused(MigtuiError):
    """QEMU answered a command with an error: its class and words, verbatim."""

    def __init__(self, vm: str, command: str, error_class: str, desc: str) -> None:
        super().__init__(f"{vm}: {command}: {desc} ({error_class})")
        self.vm = vm
        self.command = command
        self.error_class = error_class
        self.desc = desc


def describe_connect_error(address: Any, error: BaseException) -> str:
    """Why connecting to ``address`` failed, in the user's terms."""
    cause = error.exc if isinstance(error, ConnectError) else error
    reason = getattr(cause, "reason", None) if isinstance(cause, MigtuiError) else None
    if isinstance(reason, str):
        return reason  # already said in the user's terms (an SSH host)
    where = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
    if isinstance(cause, TimeoutError):
        return (f"no QMP greeting from {where} in time (QEMU busy or stuck, or another client "
                "holds this socket: QEMU serves one client per -qmp socket)")
    if isinstance(cause, FileNotFoundError):
        return f"QMP socket {where} does not exist"
    if isinstance(cause, PermissionError):
        return f"permission denied on QMP socket {where}"
    if isinstance(cause, ConnectionRefusedError):
        return f"nothing is listening on {where} (QEMU not running?)"
    if isinstance(cause, (GreetingError, NegotiationError)):
        return f"{where} did not speak QMP: {cause}"
    if isinstance(cause, ValueError):  # bytes that are not JSON text (a UnicodeDecodeError, a JSON error)
        return f"{where} did not speak QMP (not JSON: {' '.join(str(cause).split())})"
    if isinstance(cause, OSError) and cause.errno is not None:
        return f"cannot connect to {where}: {cause.strerror or errno.errorcode.get(cause.errno, cause)}"
    return f"cannot connect to {where}: {cause or type(cause).__name__}"


_FULL_QUEUE = frozenset({errno.EAGAIN, errno.EINVAL, errno.ENOTCONN})
"""What a unix socket's connect ends in when its queue is full (EAGAIN; asyncio then waits for
the socket to be writable, takes it for connected, and the first read fails: EINVAL or ENOTCONN)."""


def socket_busy(error: BaseException) -> bool:
    """Whether a shared link's connect failed because another client holds the socket:
    no greeting within the budget (QEMU greets one client at a time), or a full queue
    (QEMU listens with a queue of one, and the earlier tries that gave up wait there)."""
    cause = error.exc if isinstance(error, ConnectError) else error
    if isinstance(cause, TimeoutError):
        return True
    return isinstance(cause, OSError) and cause.errno in _FULL_QUEUE


def describe_link_error(error: BaseException | None) -> str:
    """Why an established link fell, from what ``disconnect()`` re-raised."""
    if error is None:
        return "connection closed"
    if isinstance(error, EOFError):
        return "connection closed by QEMU (exited?)"
    if isinstance(error, ConnectionResetError):
        return "connection reset by QEMU (exited?)"
    if isinstance(error, (ExecInterruptedError, StateError)):
        return "connection lost"
    if isinstance(error, ProtocolError):  # qemu.qmp's words span lines (the raw bytes follow)
        return f"connection lost: QEMU sent what is not a QMP message ({error.error_message.rstrip('.').lower()})"
    return "connection lost: " + " ".join(str(error).split())


def refusal(vm: str, command: str, error: ExecuteError) -> QEMURefused:
    return QEMURefused(vm, command, error.error_class, str(error))
