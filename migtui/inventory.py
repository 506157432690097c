"""The inventory: which VMs migtui watches, read from a TOML file.

```toml
[settings]                       # optional
audit_log = "/var/log/migtui/audit.jsonl"

[[vm]]
name = "web-1"
qmp = "/run/qemu/web-1.qmp"      # a unix socket path, or "tcp:HOST:PORT"
group = "web"                    # optional
notes = "front end, 4 GiB"       # optional
```

Found by ``--config``, then ``$MIGTUI_CONFIG``, then
``$XDG_CONFIG_HOME/migtui/inventory.toml``. A wrong file is reported with its
path, the line and the field at fault.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from migtui.errors import ConfigError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def config_dir() -> Path:
    """Where migtui keeps its configuration (inventory, presets)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "migtui"


def state_dir() -> Path:
    """Where migtui keeps what it writes (the audit log)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "migtui"


def parse_address(text: str) -> str | tuple[str, int]:
    """A QMP address as qemu.qmp takes it: a socket path, or (host, port)."""
    if text.startswith("tcp:"):
        host, sep, port = text[4:].rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r} is not tcp:HOST:PORT")
        return host.strip("[]"), int(port)
    if text.startswith("unix:"):
        text = text[5:]
    if not text:
        raise ValueError("the QMP address is empty")
    return text


class VMEntry(BaseModel):
    """One VM of the inventory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    """Short unique name shown everywhere (letters, digits, ``_ . -``)."""
    qmp: str
    """QMP address: a unix socket path, or ``tcp:HOST:PORT``."""
    group: str | None = None
    """Optional group, for filtering a large fleet."""
    notes: str | None = None
    """Free text shown beside the VM."""

    @field_validator("qmp")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        parse_address(value)
        return value

    @property
    def address(self) -> str | tuple[str, int]:
        return parse_address(self.qmp)


class Settings(BaseModel):
    """Settings that apply to the whole inventory."""

    model_config = ConfigDict(extra="forbid")

    audit_log: Path | None = None
    """JSON-lines file every mutating command is appended to
    (default: ``$XDG_STATE_HOME/migtui/audit.jsonl``)."""
    read_only: bool = False
    """Refuse every command that changes a VM, as ``--read-only`` does."""
    auto_dismiss_jobs: bool = False
    """Dismiss concluded snapshot jobs without asking."""


class Inventory(BaseModel):
    """The VMs and settings of one inventory file."""

    model_config = ConfigDict(extra="forbid")

    settings: Settings = Settings()
    vm: list[VMEntry] = []
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("vm")
    @classmethod
    def _unique_names(cls, vms: list[VMEntry]) -> list[VMEntry]:
        seen: set[str] = set()
        for entry in vms:
            if entry.name in seen:
                raise ValueError(f"VM name {entry.name!r} is used twice")
            seen.add(entry.name)
        return vms

    def get(self, name: str) -> VMEntry:
        for entry in self.vm:
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in self.vm) or "none"
        raise ConfigError(f"no VM named {name!r} in {self.path or 'the inventory'} (known: {known})")

    @property
    def audit_path(self) -> Path:
        return self.settings.audit_log or state_dir() / "audit.jsonl"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The inventory file to use, by the documented order of precedence."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("MIGTUI_CONFIG"):
        return Path(env)
    return config_dir() / "inventory.toml"


def load_inventory(explicit: str | os.PathLike[str] | None = None) -> Inventory:
    path = find_config(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no inventory file (give --config FILE, set MIGTUI_CONFIG, or use --vm NAME=ADDR)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror}") from None
    return parse_inventory(text, path)


def parse_inventory(text: str, path: Path | None = None) -> Inventory:
    where = str(path or "<inventory>")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: {error}") from None
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = first["loc"]
        line = _line_of(text, loc)
        field = ".".join(str(p) for p in loc) or "(top level)"
        raise ConfigError(f"{where}:{line}: {field}: {first['msg']}") from None
    inventory.path = path
    return inventory


def inventory_from_pairs(pairs: list[str]) -> Inventory:
    """An inventory from ``--vm NAME=ADDR`` options."""
    vms = []
    for pair in pairs:
        name, sep, address = pair.partition("=")
        if not sep:
            raise ConfigError(f"--vm {pair!r}: expected NAME=ADDR")
        vms.append({"name": name, "qmp": address})
    return parse_inventory_data({"vm": vms}, "--vm")


def parse_inventory_data(data: dict[str, Any], where: str) -> Inventory:
    try:
        return Inventory.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {field}: {first['msg']}") from None


def _line_of(text: str, loc: tuple[str | int, ...]) -> int:
    """Best line number for a pydantic error location in a TOML text.

    tomllib keeps no positions, so find the n-th ``[[vm]]`` table, then the
    key inside it; fall back to the table's own line.
    """
    lines = text.splitlines()
    start, end = 0, len(lines)
    if len(loc) >= 2 and isinstance(loc[1], int):
        headers = [i for i, line in enumerate(lines) if re.match(rf"\s*\[\[\s*{loc[0]}\s*\]\]", line)]
        if loc[1] < len(headers):
            start = headers[loc[1]]
            later = [i for i, line in enumerate(lines) if i > start and re.match(r"\s*\[", line)]
            end = later[0] if later else len(lines)
        key = loc[2] if len(loc) > 2 else None
    else:
        key = loc[-1] if loc else None
        table = [i for i, line in enumerate(lines) if loc and re.match(rf"\s*\[\s*{loc[0]}\s*\]", line)]
        if table:
            start = table[0]
    if isinstance(key, str):
        for i in range(start, end):
            if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
                return i + 1
    return start + 1
