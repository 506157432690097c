"""The files a detached lab leaves in its directory, and how to read them.

``migtui lab up`` runs the lab in a supervisor process (see
:mod:`migtui.lab.supervisor`); ``status`` and ``down`` find it again through:

- ``supervisor.pid``: the supervisor's pid, while it runs;
- ``lab-state.json``: every VM with its pid, rewritten on each change;
- ``supervisor.log``: what the supervisor printed (startup errors).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from migtui.lab.errors import LabError
from migtui.lab.vm import VM

PID_FILE = "supervisor.pid"
STATE_FILE = "lab-state.json"
LOG_FILE = "supervisor.log"
INVENTORY_FILE = "inventory.toml"
SUPERVISOR_MODULE = "migtui.lab.supervisor"


def vm_state(vm: VM) -> dict[str, Any]:
    return {
        "name": vm.name,
        "role": vm.role,
        "host": vm.host,
        "pid": vm.pid,
        "alive": vm.alive,
        "restarts": vm.restarts,
        "failure": vm.failure,
        "notes": vm.describe(),
        "qmp": str(vm.qmp_path),
        "ctl": str(vm.ctl_path),
        "stderr": str(vm.stderr_path),
    }


def write_state(directory: Path, vms: Iterable[VM], *, ready: bool, error: str | None = None,
                hosts: list[dict[str, Any]] | None = None) -> None:
    """Replace the state file in one step, so a reader never sees half of it.

    ``hosts``: a lab of hosts' namespaces and sshds (see HostLab.state)."""
    state = {"supervisor_pid": os.getpid(), "ready": ready, "error": error, "vms": [vm_state(v) for v in vms]}
    if hosts is not None:
        state["hosts"] = hosts
    temporary = directory / f".{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    temporary.replace(directory / STATE_FILE)


def read_state(directory: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((directory / STATE_FILE).read_text(encoding="utf-8")))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None
    except OSError as error:
        raise LabError(f"{directory / STATE_FILE}: {error.strerror or error}") from None


def process_runs(pid: int | None, marker: bytes) -> bool:
    """Whether ``pid`` is a live (not zombie) process whose command line
    contains ``marker``: a recycled pid is not mistaken for ours."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return status != "Z" and marker in cmdline


def qemu_runs(pid: int | None) -> bool:
    return process_runs(pid, b"qemu-system")


def supervisor_pid(directory: Path) -> int | None:
    """The pid of the supervisor running the lab in ``directory``, if it runs."""
    try:
        pid = int((directory / PID_FILE).read_text().strip())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None  # no lab was ever started there
    except OSError as error:
        raise LabError(f"{directory / PID_FILE}: {error.strerror or error}") from None
    return pid if process_runs(pid, SUPERVISOR_MODULE.encode()) else None
