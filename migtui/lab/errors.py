"""The lab's one error type."""

from __future__ import annotations

from migtui.errors import MigtuiError


class LabError(MigtuiError):
    """A lab VM could not be started, stopped or found (the message says why)."""
