"""SSH for a lab of hosts: keys, one sshd per host, and the client's files.

The lab writes, in its directory, what an admin's machine would hold: a
client key, ``known_hosts`` with every host's key (so host keys are checked
for real), and an ``ssh_config`` that ``ssh -F`` and migtui both read. Its
ProxyCommand reaches the hosts through the admin namespace (see netcat.py).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from migtui.lab.child import Child, run
from migtui.lab.errors import LabError

SSHD = "/usr/sbin/sshd"
NETCAT = Path(__file__).with_name("netcat.py")
CLIENT_KEY = "client_key"
READ_ONLY_KEY = "readonly_key"
KNOWN_HOSTS = "known_hosts"
SSH_CONFIG = "ssh_config"
AUTHORIZED_KEYS = "authorized_keys"
SSHD_START_S = 10.0


async def make_key(path: Path, log: Path, comment: str) -> str:
    """A new ed25519 key pair at ``path``; returns the public key line."""
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], log)
    return path.with_name(path.name + ".pub").read_text().strip()


def sshd_config(directory: Path, address: str, authorized_keys: Path) -> str:
    return "\n".join([
        f"ListenAddress {address}",
        "Port 22",
        f"HostKey {directory / 'ssh_host_ed25519_key'}",
        f"PidFile {directory / 'sshd.pid'}",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",  # the lab's keys live under /tmp, which is world-writable
        f"AuthorizedKeysFile {authorized_keys}",
        # QMP sockets are reached as direct-streamlocal channels; sshd allows them only
        # while it allows local forwarding at all (AllowTcpForwarding no denies them too).
        "AllowStreamLocalForwarding yes",
        "X11Forwarding no",
        "",
    ])


async def start_sshd(enter: Sequence[str], directory: Path, name: str) -> Child:
    """Start the sshd of ``directory``'s ``sshd_config`` (see :func:`sshd_config`) through the
    ``enter`` prefix (nsenter into its host); returns once it listens."""
    pid_file = directory / "sshd.pid"
    pid_file.unlink(missing_ok=True)
    sshd = Child.spawn([*enter, SSHD, "-f", str(directory / "sshd_config"), "-D", "-e"], directory / "sshd.log")
    deadline = time.monotonic() + SSHD_START_S
    try:
        while not pid_file.exists():  # sshd writes it once it listens
            if sshd.returncode is not None:
                raise LabError(f"{name}: sshd exited: {sshd.output_tail(800)}")
            if time.monotonic() > deadline:
                raise LabError(f"{name}: sshd did not start within {SSHD_START_S:g} s")
            await asyncio.sleep(0.01)
    except BaseException:
        await sshd.stop(1.0)
        raise
    return sshd


def read_only_entry(public_key: str, inventory: Path) -> str:
    """An authorized_keys line that gives ``public_key`` read-only migtui and nothing else."""
    command = f"{sys.executable} -m migtui login --config {inventory}"
    return f'command="{command}",no-port-forwarding,no-agent-forwarding,no-X11-forwarding {public_key}'


def client_config(directory: Path, admin_pid: int) -> str:
    proxy = f"nsenter --net=/proc/{admin_pid}/ns/net {sys.executable} -I {NETCAT} %h %p"
    return "\n".join([
        "# Written by `migtui lab`: ssh -F this file, or [[host]] ssh_config in the inventory.",
        "Host 198.51.100.*",
        "  User root",
        f"  IdentityFile {directory / CLIENT_KEY}",
        "  IdentitiesOnly yes",
        f"  UserKnownHostsFile {directory / KNOWN_HOSTS}",
        "  StrictHostKeyChecking yes",
        "  BatchMode yes",
        f"  ProxyCommand {proxy}",
        "",
    ])
