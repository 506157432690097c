"""The state of migtui's QMP connection to one VM, as every layer names it."""

from __future__ import annotations

from enum import StrEnum


class LinkState(StrEnum):
    """A StrEnum: ``watch`` prints it and JSON carries it as the word itself."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"
