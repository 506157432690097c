"""What a libvirt lab host is made of: its copies of libvirt's trees, their
configuration, its /etc/hosts, and the lab's domain XML.

Each host gets, in its own directory, copies of /etc/libvirt (minus any
defined domain and autostart link of this machine) and empty copies of the
directory structure of /var/lib/libvirt, /var/log/libvirt and
/var/cache/libvirt, which its private mount namespace binds over the real
ones. Nothing of this machine's own libvirt is written to.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.sax.saxutils import escape

LIBVIRTD_PORT = 16509
EMULATOR = "/usr/bin/qemu-system-x86_64"
TREES = {"etc": Path("/etc/libvirt"), "lib": Path("/var/lib/libvirt"), "log": Path("/var/log/libvirt"),
         "cache": Path("/var/cache/libvirt")}
"""A host's copy (a folder of its directory) -> where its mount namespace binds it."""
HOSTS_FILE = "hosts"
"""In a host's directory: its /etc/hosts."""


def capabilities_dir(host_directory: Path) -> Path:
    """Where the host's libvirtd keeps its QEMU capabilities (its /var/cache/libvirt/qemu/capabilities)."""
    return host_directory / "cache" / "qemu" / "capabilities"


def _not_this_machines(directory: str, names: list[str]) -> list[str]:
    """In /etc/libvirt: no autostart link (no network, no pool starts) and no domain of this machine."""
    folder = Path(directory)
    if folder.name == "autostart":
        return names
    if folder.name in ("qemu", "lxc", "libxl"):
        return [name for name in names if name.endswith(".xml")]
    return []


def _folders_only(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if not (Path(directory) / name).is_dir() or (Path(directory) / name).is_symlink()]


def prepare_tree(directory: Path, address: str, host_uuid: str, hosts: dict[str, str]) -> None:
    """The host's copies of libvirt's trees in ``directory``, configured for the lab."""
    for copy, original in TREES.items():
        shutil.rmtree(directory / copy, ignore_errors=True)
        ignore = _not_this_machines if copy == "etc" else _folders_only
        if original.is_dir():
            shutil.copytree(original, directory / copy, symlinks=True, ignore=ignore)
        else:
            (directory / copy).mkdir(mode=0o755)
    capabilities_dir(directory).mkdir(parents=True, exist_ok=True)
    with open(directory / "etc" / "libvirtd.conf", "a", encoding="utf-8") as conf:
        conf.write(libvirtd_conf(address, host_uuid))
    with open(directory / "etc" / "qemu.conf", "a", encoding="utf-8") as conf:
        conf.write(qemu_conf(address))
    (directory / HOSTS_FILE).write_text(hosts_file(hosts), encoding="utf-8")


def libvirtd_conf(address: str, host_uuid: str) -> str:
    # A distinct host_uuid: libvirt refuses to migrate to "the same host". TCP without
    # authentication, on the host's lab address only: the lab's network is its own.
    return "\n".join([
        "", "# --- migtui lab host",
        "listen_tls = 0",
        "listen_tcp = 1",
        f'listen_addr = "{address}"',
        'auth_tcp = "none"',
        f'host_uuid = "{host_uuid}"',
        "log_level = 3",
        'log_filters = "1:qemu.qemu_migration 1:qemu.qemu_capabilities"',
        'log_outputs = "1:file:/var/log/libvirt/libvirtd.log"',
        "",
    ])


def qemu_conf(address: str) -> str:
    # user/group root: otherwise libvirt probes QEMU again at every lookup (defineXML 32 s);
    # no cgroups (the machine's are not the lab's); migrations on the lab's network.
    return "\n".join([
        "", "# --- migtui lab host",
        'user = "root"',
        'group = "root"',
        "cgroup_controllers = [ ]",
        f'migration_address = "{address}"',
        f'migration_host = "{address}"',
        "",
    ])


def hosts_file(hosts: dict[str, str]) -> str:
    """``hosts``: name -> address of every lab host."""
    return "127.0.0.1 localhost\n" + "".join(f"{address} {name}\n" for name, address in hosts.items())


def domain_xml(name: str, uuid: str, mem_mib: int, guest: Path) -> str:
    """A domain running the lab's guest image (``-kernel``): no disk, no network, no balloon."""
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>{mem_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{escape(str(guest))}</kernel>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{EMULATOR}</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
"""
