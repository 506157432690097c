"""The state of migtui's QMP connection to one VM, as every layer names it."""

from __future__ import annotations

from enum import StrEnum


class LinkState(StrEnum):
    """A StrEnum: ``watch`` prints it and JSON carries it as the word itself."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    BUSY = "busy"
    """A shared socket that another client holds: QEMU is there, migtui waits its turn (not down)."""
    DISCONNECTED = "disconnected"
    CLOSED = "closed"
