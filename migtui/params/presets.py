"""Presets: named sets of migration parameters and capabilities, one TOML file each.

``config_dir()/presets/NAME.toml``::

    # migtui preset "slow-link" (saved from vm1, QEMU 7.2.22)
    [parameters]
    downtime-limit = 500
    max-bandwidth = 33554432      # bytes; "32M" works too

    [capabilities]
    auto-converge = true

A preset holds values, not a VM's schema: it is validated against each VM's
QEMU when it is applied (a member that QEMU lacks is refused there, named).
TOML has no null, so a string-or-null member set to null is written as the
text ``"null"``, which is how ``--set tls-creds=null`` reads too.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from migtui.errors import ConfigError, UsageError
from migtui.inventory import config_dir

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SECTIONS = ("parameters", "capabilities")


@dataclass(frozen=True)
class Preset:
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, bool] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.parameters or self.capabilities)


def presets_dir() -> Path:
    return config_dir() / "presets"


def preset_path(name: str) -> Path:
    if not NAME.match(name):
        raise UsageError(f"{name!r} is no preset name: letters, digits, '.', '_' and '-', at most 64 of them")
    return presets_dir() / f"{name}.toml"


def check_savable(name: str) -> Path:
    """Refuse a preset that could not be saved (bad name, unwritable folder) before
    anything is sent to a VM; returns where it will go."""
    path = preset_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot save preset {name!r} to {path}: {error.strerror or error}") from None
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(f"cannot save preset {name!r} to {path}: {path.parent} is not writable")
    return path


def list_presets() -> list[str]:
    folder = presets_dir()
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.toml") if NAME.match(path.stem))


def load_preset(name: str) -> Preset:
    path = preset_path(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(list_presets()) or "none"
        raise UsageError(f"no preset named {name!r} in {presets_dir()} (known: {known})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown section {unknown[0]!r} (a preset has [parameters] and [capabilities])")
    parameters = data.get("parameters", {})
    capabilities = data.get("capabilities", {})
    if not isinstance(parameters, dict) or not isinstance(capabilities, dict):
        raise ConfigError(f"{path}: [parameters] and [capabilities] must be tables")
    for cap, state in capabilities.items():
        if not isinstance(state, bool):
            raise ConfigError(f"{path}: capability {cap!r} must be true or false, not {state!r}")
    return Preset(name, dict(parameters), dict(capabilities))


def save_preset(preset: Preset, comment: str | None = None) -> Path:
    """Write ``preset`` (replacing one of the same name); returns its path."""
    path = preset_path(preset.name)
    header = f'# migtui preset "{preset.name}"' + (f" ({comment})" if comment else "")
    body = tomli_w.dumps({"parameters": _without_null(preset.parameters),
                          "capabilities": dict(preset.capabilities)})
    temporary = path.with_suffix(".toml.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(f"{header}\n\n{body}", encoding="utf-8")
        temporary.replace(path)  # a reader never sees half a file
    except OSError as error:
        raise ConfigError(f"cannot save preset {preset.name!r} to {path}: {error.strerror or error}") from None
    return path


def _without_null(value: Any) -> Any:
    """TOML has no null: a string-or-null member set to null is kept as the text "null"."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return {str(key): _without_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_null(item) for item in value]
    return value
