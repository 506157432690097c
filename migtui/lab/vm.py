"""A lab VM: its files, its QEMU command line, and its current process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from migtui.lab.child import Child
from migtui.lab.guest import GuestSpec

Role = Literal["source", "destination"]
UNIX_PATH_MAX = 107  # sun_path holds 108 bytes including the final NUL


@dataclass(frozen=True)
class ExitRecord:
    """How one QEMU process of a VM ended."""

    pid: int
    returncode: int
    """Exit status; negative for the signal that killed it."""
    lifetime_s: float
    stderr_tail: str
    """The end of its stderr (the whole story for a failed incoming migration);
    the file itself becomes ``NAME.stderr.1`` when a successor starts."""


@dataclass(eq=False)
class VM:
    """One VM of a lab. The same object follows the VM across restarts."""

    name: str
    role: Role
    directory: Path
    mem_mib: int
    guest: GuestSpec
    guest_path: Path
    disk_path: Path | None = None
    """The qcow2 image, or None without a disk. A destination shares its source's."""
    source_name: str | None = None
    """For a destination: the source it was made like."""
    host: str | None = None
    """The lab host it runs on (None: this machine)."""
    qmp_dir: Path | None = None
    """Where migtui's QMP socket is, if not in ``directory``: a lab host's
    private /run, seen only inside that host (and so only through SSH)."""
    wrap: tuple[str, ...] = ()
    """Put before QEMU's command line (``nsenter`` into a lab host)."""
    qemu: str | None = None
    """This VM's QEMU binary, when not the lab's (another QEMU release)."""
    machine: str = "pc"
    """The machine type. Between two releases it must name one both know
    (``pc-i440fx-7.2``): plain ``pc`` is each release's own newest."""
    process: Child | None = field(default=None, repr=False)
    exits: list[ExitRecord] = field(default_factory=list, repr=False)
    """Past processes, oldest first (bounded)."""
    restarts: int = 0
    """How many times the lab restarted this destination after it exited."""
    failure: str | None = None
    """Why the lab gave up restarting it, if it did."""
    stopping: bool = field(default=False, repr=False)
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)
    """The task waiting for the current process to exit."""

    @property
    def qmp_path(self) -> Path:
        """The QMP socket for migtui."""
        return (self.qmp_dir or self.directory) / f"{self.name}.qmp"

    @property
    def ctl_path(self) -> Path:
        """A second QMP socket for the lab's and tests' own checks."""
        return self.directory / f"{self.name}.ctl.qmp"

    @property
    def stderr_path(self) -> Path:
        """QEMU's stderr (and stdout) of the current or latest process."""
        return self.directory / f"{self.name}.stderr"

    @property
    def serial_path(self) -> Path:
        return self.directory / f"{self.name}.serial.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def describe(self) -> str:
        """One line for inventories and status listings."""
        if self.role == "destination":
            return f"destination for {self.source_name}, {self.mem_mib} MiB, waits with -incoming defer"
        disk = ", qcow2 disk" if self.disk_path else ""
        return f"source, {self.mem_mib} MiB, {self.guest.describe()}{disk}"

    def qemu_argv(self, qemu: str = "qemu-system-x86_64") -> list[str]:
        argv = [
            *self.wrap,
            qemu,
            "-name", self.name,
            "-accel", "tcg",  # KVM is not usable here; be explicit
            "-machine", self.machine,
            "-display", "none",
            "-nodefaults",
            "-no-user-config",
            "-m", str(self.mem_mib),
            "-serial", f"file:{self.serial_path}",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-qmp", f"unix:{self.ctl_path},server=on,wait=off",
            # A destination boots the same image so its ROMs match the source's;
            # its RAM is replaced by the incoming migration anyway.
            "-kernel", str(self.guest_path),
        ]
        if self.disk_path:
            argv += [
                "-blockdev",
                f"driver=qcow2,node-name=disk0,file.driver=file,file.filename={self.disk_path}",
                "-device", "virtio-blk-pci,drive=disk0,id=vd0",
            ]
        if self.role == "destination":
            argv += ["-incoming", "defer"]
        return argv

    @property
    def ready_paths(self) -> tuple[Path, ...]:
        """The sockets that exist once QEMU is up, as this process sees them."""
        return (self.ctl_path,) if self.qmp_dir else (self.qmp_path, self.ctl_path)

    def check_paths(self) -> str | None:
        """Why the socket paths cannot work, or None."""
        longest = max((self.qmp_path, self.ctl_path), key=lambda p: len(str(p)))
        if len(str(longest).encode()) > UNIX_PATH_MAX:
            return (
                f"socket path {longest} is longer than {UNIX_PATH_MAX} bytes, "
                "the limit of a unix socket: use a shorter lab directory"
            )
        return None
