"""Errors of the schema engine, each one line for the person at the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migtui.errors import MigtuiError


@dataclass(frozen=True)
class Location:
    """Where something sits in a schema file (line and column count from 1)."""

    file: Path
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SchemaError(MigtuiError):
    """A schema file that cannot be read, parsed or understood.

    ``str()`` is ``FILE:LINE:COL: message`` when the place is known.
    """

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class FieldErrors(MigtuiError):
    """Values a generated model refused, one readable message per field.

    ``errors`` maps the member name as QEMU spells it (``downtime-limit``) to
    its message, so a form can show each one at its field.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        listed = "; ".join(f"{name}: {message}" for name, message in self.errors.items())
        super().__init__(listed)
