"""What an admin chose in the dashboard, kept for the next start.

``config_dir()/dashboard.toml`` (``$XDG_CONFIG_HOME/migtui``) holds the
theme picked in the palette, the history window of the VM charts and the
fleet table's order::

    theme = "migtui-ansi"
    chart_window = "10 min"      # "1 min", "10 min" or "all"
    sort = "dirty"               # a column of the fleet table
    sort_reverse = true

The dashboard reads it at start and writes it when one of these changes. A
wrong file is reported in one line (path, line, field) and then left alone:
nothing of it is used, and nothing overwrites it, so a typo is never lost.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import tomli_w
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from migtui.errors import ConfigError
from migtui.fleet_columns import SORTABLE
from migtui.inventory import config_dir
from migtui.toml_lines import field_path, line_of

FILE_NAME = "dashboard.toml"
CHART_WINDOWS: dict[str, float | None] = {"1 min": 60.0, "10 min": 600.0, "all": None}
"""The VM charts' history windows, by the name the screen shows, in the order w cycles them."""


class Preferences(BaseModel):
    """The dashboard's remembered choices; every field is optional in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    theme: str | None = None
    """A theme's name (checked against the themes the dashboard knows when it starts)."""
    chart_window: str = "1 min"
    """History shown on the VM screen's charts (w cycles it): one of CHART_WINDOWS."""
    sort: str = "name"
    """The fleet table's sort column (s cycles it): one of its sortable columns."""
    sort_reverse: bool = False
    """Largest first (S)."""

    @field_validator("chart_window")
    @classmethod
    def _a_window(cls, value: str) -> str:
        if value not in CHART_WINDOWS:
            raise ValueError(f"one of {', '.join(map(repr, CHART_WINDOWS))}, not {value!r}")
        return value

    @field_validator("sort")
    @classmethod
    def _a_column(cls, value: str) -> str:
        if value not in SORTABLE:
            raise ValueError(f"one of {', '.join(SORTABLE)}, not {value!r}")
        return value

    @property
    def window_seconds(self) -> float | None:
        return CHART_WINDOWS[self.chart_window]


class PreferenceFile:
    """The file behind :class:`Preferences`: read once, written on each change.

    ``problem`` is the one line that says why the file was not used (None when
    it was, or when there was none yet); such a file is never written over."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / FILE_NAME
        self.problem: str | None = None
        self.values = Preferences()
        try:
            self.values = read_preferences(self.path)
        except ConfigError as error:
            self.problem = f"{error}; the dashboard starts with its defaults and leaves the file as it is"

    def update(self, **changes: object) -> None:
        """Keep ``changes`` (field=value) and write the file, unless it was unreadable."""
        values = Preferences.model_validate({**self.values.model_dump(), **changes})
        if values == self.values:
            return
        self.values = values
        if self.problem is None:
            write_preferences(self.path, values)


def read_preferences(path: Path) -> Preferences:
    """The preferences in ``path`` (defaults when there is no file); ConfigError when it is wrong."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Preferences()
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    try:
        return Preferences.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        line = line_of(text, data, first["loc"])
        place = f"{path}:{line}" if line is not None else str(path)
        message = str(first["ctx"]["error"]) if first["type"] == "value_error" else first["msg"]
        raise ConfigError(f"{place}: {field_path(first['loc'])}: {message}") from None


def write_preferences(path: Path, values: Preferences) -> None:
    """Write ``values`` (only what differs from the defaults) through a temporary file, so a
    crash mid-write leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(tomli_w.dumps(values.model_dump(exclude_defaults=True)), encoding="utf-8")
    os.replace(temporary, path)
