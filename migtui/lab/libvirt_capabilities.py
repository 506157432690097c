"""QEMU's capabilities, kept between lab runs.

libvirtd probes each QEMU binary the first time it needs it (about 4 s under
TCG) and caches the answer in /var/cache/libvirt/qemu/capabilities, which is
a lab host's own copy, gone with the lab. The lab keeps the files in
``$XDG_CACHE_HOME/migtui/libvirt-capabilities`` (``~/.cache/...``): copied
into a host before its libvirtd needs them, saved after a probe. libvirtd
checks them itself (QEMU's and its own binaries, the kernel) and probes
again when they are stale.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migtui" / "libvirt-capabilities"


def copy_in(host_capabilities: Path) -> None:
    """Give a host the kept files it lacks."""
    kept = cache_dir()
    if not kept.is_dir():
        return
    host_capabilities.mkdir(parents=True, exist_ok=True)
    for path in kept.glob("*.xml"):
        if not (host_capabilities / path.name).exists():
            shutil.copyfile(path, host_capabilities / path.name)


def save(host_capabilities: Path) -> None:
    """Keep what a host's libvirtd probed, where it differs from what is kept."""
    kept = cache_dir()
    for path in host_capabilities.glob("*.xml"):
        data = path.read_bytes()
        target = kept / path.name
        if target.exists() and target.read_bytes() == data:
            continue
        kept.mkdir(parents=True, exist_ok=True)
        temporary = kept / f".{path.name}.{os.getpid()}.tmp"
        temporary.write_bytes(data)
        temporary.replace(target)
