"""The inventory: which VMs migtui watches, read from a TOML file.

```toml
[settings]                       # optional
audit_log = "/var/log/migtui/audit.jsonl"
shared = false                   # true: every VM's socket is shared with another tool (see below)

[[host]]                         # optional: hosts reached over SSH (see migtui.host_entry)
name = "hv-a"
ssh = "root@198.51.100.1"

[[vm]]
name = "web-1"
qmp = "/run/qemu/web-1.qmp"      # a unix socket path, or "tcp:HOST:PORT"
host = "hv-a"                    # optional: the socket is on that host; absent: this machine
group = "web"                    # optional
notes = "front end, 4 GiB"       # optional
shared = true                    # optional: connect per poll or command and let go at once

[[alert]]                        # optional: see migtui.alerts.rule
when = "stalled"
after = "60s"
run = "/usr/local/bin/page-oncall"
```

``shared`` is for a socket another tool also uses (Proxmox VE's qemu-server,
a site's own scripts): QEMU serves one client per QMP socket, so migtui must
not hold it. A VM's own word wins, then its ``[[host]]``'s, then
``[settings]``'s, then ``--shared``, which makes every VM shared.

Found by ``--config``, then ``$MIGTUI_CONFIG``, then
``$XDG_CONFIG_HOME/migtui/inventory.toml``. A wrong file is reported with its
path and the field at fault (``vm[2].qmp``), and the line when it is certain.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails

from migtui.alerts.rule import AlertRule
from migtui.errors import ConfigError
from migtui.host_entry import NAME_PATTERN, SSH_SCHEME, HostEntry, split_ssh_url
from migtui.socket_pattern import DEFAULT_NAME, check_pattern, check_template, is_pattern, is_template
from migtui.toml_lines import field_path, line_of


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

    name: str
    """Short unique name shown everywhere (letters, digits, ``_ . -``); with a pattern in
    ``qmp``, a template for the names of the VMs it finds (default ``{stem}``)."""
    qmp: str
    """QMP address: a unix socket path, or ``tcp:HOST:PORT``; or a pattern of socket
    paths (``/var/run/qemu-server/*.qmp``): one VM per socket found (:mod:`migtui.socket_pattern`)."""
    group: str | None = None
    """Optional group, for filtering a large fleet."""
    notes: str | None = None
    """Free text shown beside the VM."""
    host: str | None = None
    """The inventory host whose QMP socket this is (None: this machine)."""
    shared: bool | None = None
    """Let go of the socket after each poll or command (another tool uses it too);
    None: as the VM's host, or the settings, say."""

    @model_validator(mode="before")
    @classmethod
    def _pattern_names_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("qmp"), str) \
                and is_pattern(data["qmp"]):
            return {**data, "name": DEFAULT_NAME}
        return data

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if is_template(value):
            check_template(value)
        elif not re.match(NAME_PATTERN, value):
            raise ValueError(f"{value!r}: a VM name is letters, digits and '_ . -', starting with a letter or digit")
        return value

    @field_validator("qmp")
    @classmethod
    def _valid_address(cls, value: str, info: ValidationInfo) -> str:
        if is_pattern(value):
            check_pattern(value)
            if "name" in info.data and not is_template(info.data["name"]):
                raise ValueError(f"{value!r} finds one VM per socket: its name must be a template such as "
                                 f"'{{stem}}' or '{info.data['name']}-{{stem}}', not {info.data['name']!r}")
            return value
        if is_template(str(info.data.get("name", ""))):
            raise ValueError(f"{value!r} is one socket: a name template ({info.data['name']}) needs a pattern "
                             "(a path with * ? or [...])")
        parse_address(value)
        return value

    @property
    def pattern(self) -> bool:
        """Whether this entry finds its VMs by pattern (its name is then a template)."""
        return is_pattern(self.qmp)

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
    shared: bool = False
    """Every VM's QMP socket is shared with another tool, unless its host or itself says otherwise."""
    bell: bool = False
    """Ring the terminal's bell when an alert fires (the dashboard)."""
    history: Path | None = None
    """A recording (``migtui record --db FILE``) whose past migrations tell what paths between the
    same hosts carried: read by the dashboard, ``watch``, ``migrate --wait``, ``record`` and ``serve``."""


class Inventory(BaseModel):
    """The VMs and settings of one inventory file."""

    model_config = ConfigDict(extra="forbid")

    settings: Settings = Settings()
    host: list[HostEntry] = []
    vm: list[VMEntry] = []
    alert: list[AlertRule] = []
    """When to tell someone (migtui.alerts.rule): checked by the dashboard and ``migtui record``."""
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("vm", "host")
    @classmethod
    def _unique_names(cls, entries: list[Any], info: ValidationInfo) -> list[Any]:
        seen: dict[str, int] = {}
        what = "VM" if info.field_name == "vm" else "host"
        for index, entry in enumerate(entries):
            if getattr(entry, "pattern", False):
                continue  # a template: the names it makes are checked against the others when found
            if entry.name in seen:
                raise ValueError(f"{what} name {entry.name!r} is used twice "
                                 f"({info.field_name}[{seen[entry.name]}] and {info.field_name}[{index}])")
            seen[entry.name] = index
        return entries

    def host_of(self, entry: VMEntry) -> HostEntry | None:
        """The host a VM's socket is on (None: this machine)."""
        for host in self.host:
            if host.name == entry.host:
                return host
        return None

    def resolve_shared(self, every: bool = False) -> None:
        """Give each VM whose ``shared`` is unset its host's word, else the settings';
        with ``every`` (``--shared``), make every VM shared."""
        hosts = {host.name: host for host in self.host}

        def shared(entry: VMEntry) -> bool:
            if every:
                return True
            if entry.shared is not None:
                return entry.shared
            host = hosts.get(entry.host) if entry.host else None
            return host.shared if host is not None and host.shared is not None else self.settings.shared

        self.vm = [entry if entry.shared is shared(entry) else entry.model_copy(update={"shared": shared(entry)})
                   for entry in self.vm]

    def unknown_host(self) -> tuple[tuple[str | int, ...], str] | None:
        """Where a VM names a host the inventory lacks, and what to say."""
        known = {host.name: host for host in self.host}
        for index, entry in enumerate(self.vm):
            if entry.host is not None and entry.host not in known:
                names = ", ".join(sorted(known)) or "none"
                return ("vm", index, "host"), f"no [[host]] named {entry.host!r} (known: {names})"
            if entry.host is not None and known[entry.host].libvirt:
                return ("vm", index, "host"), (f"{entry.host!r} is a libvirt host: its domains are VMs of their own "
                                               "(found through libvirt, no [[vm]] needed)")
        return None

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
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no inventory file (give --config FILE, set MIGTUI_CONFIG, or use --vm NAME=ADDR)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x}); "
                          "TOML files are UTF-8") from None
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
        line = line_of(text, data, first["loc"], missing=first["type"] == "missing")
        place = f"{where}:{line}" if line is not None else where
        raise ConfigError(f"{place}: {field_path(first['loc'])}: {_message(first)}") from None
    if wrong := inventory.unknown_host():
        loc, message = wrong
        line = line_of(text, data, loc)
        raise ConfigError(f"{where}:{line}: {field_path(loc)}: {message}" if line is not None
                          else f"{where}: {field_path(loc)}: {message}")
    inventory.path = path
    inventory.resolve_shared()
    return inventory


def inventory_from_pairs(pairs: list[str]) -> Inventory:
    """An inventory from ``--vm NAME=ADDR`` options.

    ``ssh://[user@]host[:port]/path`` makes a host named after the SSH host
    (one per distinct destination: VMs of one host share its connection).
    """
    vms: list[dict[str, Any]] = []
    hosts: dict[str, str] = {}  # ssh destination -> host name
    for pair in pairs:
        name, sep, address = pair.partition("=")
        if not sep:
            raise ConfigError(f"--vm {pair!r}: expected NAME=ADDR")
        if not address.startswith(SSH_SCHEME):
            vms.append({"name": name, "qmp": address})
            continue
        try:
            destination, remote_path = split_ssh_url(address)
        except ValueError as error:
            raise ConfigError(f"--vm {pair!r}: {error}") from None
        key = str(destination)
        if key not in hosts:
            base = destination.host.strip("[]").replace(":", "-")
            hosts[key] = base if base not in hosts.values() else f"{base}-{len(hosts) + 1}"
        vms.append({"name": name, "qmp": remote_path, "host": hosts[key]})
    data = {"host": [{"name": host, "ssh": ssh} for ssh, host in hosts.items()], "vm": vms}
    return parse_inventory_data(data, "--vm")


def add_libvirt_hosts(inventory: Inventory, uris: list[str]) -> Inventory:
    """The inventory with a libvirt host for each ``--libvirt URI`` (named after the URI's host)."""
    hosts = [host.model_dump(exclude_none=True) for host in inventory.host]
    taken = {host["name"] for host in hosts}
    for uri in uris:
        base = re.sub(r"[^A-Za-z0-9_.-]", "-", urlsplit(uri).hostname or "localhost").strip("-.") or "localhost"
        name, number = base, 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        try:  # said of the option, not of the inventory's host[N].libvirt field it becomes
            HostEntry.model_validate({"name": name, "libvirt": uri})
        except ValidationError as error:
            raise ConfigError(f"--libvirt: {_message(error.errors()[0])}") from None
        hosts.append({"name": name, "libvirt": uri})
    data = {**inventory.model_dump(exclude_none=True, exclude={"host"}), "host": hosts}
    widened = parse_inventory_data(data, "--libvirt")
    widened.path = inventory.path
    return widened


def parse_inventory_data(data: dict[str, Any], where: str) -> Inventory:
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigError(f"{where}: {field_path(first['loc'])}: {_message(first)}") from None
    if wrong := inventory.unknown_host():
        raise ConfigError(f"{where}: {field_path(wrong[0])}: {wrong[1]}")
    return inventory


def _message(error: ErrorDetails) -> str:
    """pydantic's message, without the "Value error, " it puts before our own words."""
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return error["msg"]
