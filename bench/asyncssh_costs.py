"""An experiment, not a benchmark: what asyncssh's own per-packet work costs the fleet.

``bench_ssh.py`` finds QMP over SSH at about 1.5x the CPU per sample of a
local socket. Profiled, much of the difference is asyncssh's Python for
each packet. This script removes five of those costs from asyncssh, by
replacing its methods in this process only, and measures the fleet of
``bench_ssh.py`` (2 hosts x 8 VMs at 10 Hz) with and without them, rounds
alternating:

* an SSH_MSG_IGNORE before every packet (a countermeasure for CBC modes,
  sent with AEAD ciphers too);
* a new ``AESGCM`` object for every packet;
* the text of a debug line made for every packet when nothing logs it;
* the keepalive timer cancelled and made again at every receipt;
* random padding, one ``getrandom`` call a packet (zeros here: for
  measuring only, never for use).

Each is a change asyncssh itself could make; migtui does not patch it.
Root only, like bench_ssh.py.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asyncssh import connection, packet
from asyncssh.crypto import cipher
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import bench_ssh
from migtui.inventory import VMEntry, load_inventory

ROUNDS = 8
GCM_TAG = 16


def _no_ignore(send: Callable[..., None]) -> Callable[..., None]:
    def send_packet(self: Any, pkttype: int, *args: bytes, handler: Any = None) -> None:
        if pkttype != connection.MSG_IGNORE:
            send(self, pkttype, *args, handler=handler)
    return send_packet


def _gcm(self: Any) -> AESGCM:
    aead = self.__dict__.get("_aead")
    if aead is None:
        aead = self._aead = AESGCM(self._key)
    return aead


def _encrypt(self: Any, header: bytes, data: bytes) -> tuple[bytes, bytes]:
    data = _gcm(self).encrypt(self._iv, data, header)
    self._update_iv()
    return header + data[:-GCM_TAG], data[-GCM_TAG:]


def _decrypt(self: Any, header: bytes, data: bytes, mac: bytes) -> bytes | None:
    try:
        plain: bytes | None = _gcm(self).decrypt(self._iv, data + mac, header)
    except Exception:  # noqa: BLE001 - InvalidTag, as asyncssh's own
        plain = None
    self._update_iv()
    return plain


PATCHES: list[tuple[object, str, object]] = [
    (connection.SSHConnection, "send_packet", _no_ignore(connection.SSHConnection.send_packet)),
    (cipher.GCMCipher, "encrypt_and_sign", _encrypt),
    (cipher.GCMCipher, "verify_and_decrypt", _decrypt),
    (packet.SSHPacketLogger, "_log_packet", lambda self, *args: None),
    (connection.SSHConnection, "_reset_keepalive_timer", lambda self: None),
    (connection.os, "urandom", bytes),
]
ORIGINALS = [(owner, name, getattr(owner, name)) for owner, name, _ in PATCHES]


def patched(on: bool) -> None:
    for owner, name, value in PATCHES if on else ORIGINALS:
        setattr(owner, name, value)


async def measure(inventory_path: Path) -> None:
    inventory = load_inventory(inventory_path)
    directory = inventory_path.parent
    ctls = [directory / (v.host or "") / f"{v.name}.ctl.qmp" for v in inventory.vm]
    local = [VMEntry(name=v.name, qmp=str(path)) for v, path in zip(inventory.vm, ctls)]
    await bench_ssh.pause(ctls)
    figures: dict[str, list[float]] = {"stock": [], "without those costs": []}
    for round_ in range(1, ROUNDS + 1):
        local_cpu, _, _ = await bench_ssh.fleet_cpu(local, [])
        for what, on in (("stock", False), ("without those costs", True)):
            patched(on)
            try:
                ssh_cpu, _, _ = await bench_ssh.fleet_cpu(list(inventory.vm), list(inventory.host))
            finally:
                patched(False)
            figures[what].append(ssh_cpu.total / local_cpu.total)
        print(f"round {round_}: SSH / local CPU per sample: " +
              ", ".join(f"asyncssh {what} {ratios[-1]:.2f}x" for what, ratios in figures.items()), flush=True)
    for what, ratios in figures.items():
        print(f"asyncssh {what}: median {statistics.median(ratios):.2f}x local "
              f"(range {min(ratios):.2f}-{max(ratios):.2f}x)")


if __name__ == "__main__":
    asyncio.run(measure(Path(sys.argv[1])) if len(sys.argv) > 1 else bench_ssh.main(os.path.abspath(__file__)))
