"""``migtui lab up|status|down``: a detached lab of real QEMU VMs.

``up`` starts a supervisor process (``python -m migtui.lab.supervisor DIR``)
that owns the VMs and outlives the command; it writes ``DIR/inventory.toml``
for ``migtui --config``. ``down`` stops it and waits until every QEMU is gone.
``up --libvirt`` runs libvirt hosts instead, each with its own libvirtd and
running domains (see migtui.lab.libvirt_lab).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from migtui.cli.common import action_options
from migtui.errors import BadArguments
from migtui.lab.child import one_line, read_tail
from migtui.lab.errors import LabError
from migtui.lab.hosts import need_root
from migtui.lab.libvirt_host import list_domains
from migtui.lab.netns import processes_in
from migtui.lab.state import (
    INVENTORY_FILE,
    LOG_FILE,
    STATE_FILE,
    SUPERVISOR_MODULE,
    process_runs,
    qemu_runs,
    read_state,
    supervisor_pid,
)
from migtui.lab.supervisor import parse_values, spread

HOLDER_MARKER = b"libvirt_holder"
UP_TIMEOUT_S = 60.0
DOWN_TIMEOUT_S = 30.0
NOT_RUNNING = 3  # `status` exit code when no lab runs, as `systemctl status` does


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("lab", help="run real QEMU VMs to watch (demo, tests)")
    # --dir before or after the action: migtui lab --dir D up, migtui lab up --dir D
    _add_dir(parser)
    common = action_options(_add_dir)
    actions = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="start VMs vm1..vmN, each with a waiting vmN-dst", parents=[common])
    up.add_argument("--vms", type=int, default=3, metavar="N", help="number of source VMs (default 3)")
    up.add_argument("--mem", type=int, default=128, metavar="MIB", help="RAM of each VM (default 128)")
    up.add_argument(
        "--dirty-mib", default="32", metavar="MIB[,MIB...]",
        help="RAM range each guest keeps writing to; one value, or one per VM (default 32)",
    )
    up.add_argument(
        "--dirty-rate", default="64", metavar="MIB_S[,MIB_S...]",
        help="MiB each guest dirties per second; 0 idles, 'max' never pauses; one value or one per VM (default 64)",
    )
    up.add_argument("--disk", action="store_true", help="give each VM a 1 GiB qcow2 disk (for snapshots)")
    up.add_argument("--hosts", type=int, default=0, metavar="N",
                    help="run the VMs on N hosts (network namespaces with their own sshd, reached over SSH; "
                         "root only); each source's destination waits on the next host")
    up.add_argument("--vms-per-host", type=int, default=1, metavar="K", help="with --hosts: sources per host")
    up.add_argument("--link", metavar="RATE", help="with --hosts: cap each host's link (tc tbf), e.g. 100mbit")
    up.add_argument("--libvirt", action="store_true",
                    help="libvirt hosts (2 unless --hosts N): each its own libvirtd, with --vms-per-host running "
                         "domains web-1, web-2...; the inventory lists the hosts (root only)")
    up.add_argument("--transport", choices=("ssh", "tcp"), default="ssh",
                    help="with --libvirt: the inventory's libvirt URIs, qemu+ssh (default) or qemu+tcp through a "
                         "loopback port")
    up.set_defaults(func=lab_up)

    for name, func, text in (
        ("status", lab_status, "list the lab's VMs, their pids, and whether they run"),
        ("down", lab_down, "stop every VM of the lab and wait until they are gone"),
    ):
        action = actions.add_parser(name, help=text, parents=[common])
        action.set_defaults(func=func)


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, metavar="DIR",
                        help="lab directory (sockets, logs, inventory.toml); required")


def _directory(args: argparse.Namespace) -> Path:
    if args.dir is None:
        raise BadArguments(f"lab {args.lab_command}: --dir DIR is required (the lab's directory)")
    return Path(args.dir).resolve()


def lab_up(args: argparse.Namespace) -> int:
    directory = _directory(args)
    if args.vms < 1:
        raise LabError("--vms must be 1 or more")
    if args.libvirt:
        if args.disk:
            raise LabError("--disk does not go with --libvirt (the lab's domains have no disk)")
        args.hosts = args.hosts or 2
    elif args.transport != "ssh":
        raise LabError("--transport goes with --libvirt")
    if args.hosts:
        need_root()
        if args.vms_per_host < 1:
            raise LabError("--vms-per-host must be 1 or more")
    elif args.link or args.vms_per_host != 1:
        raise LabError("--link and --vms-per-host go with --hosts N")
    count = args.hosts * args.vms_per_host if args.hosts else args.vms
    spread(parse_values(args.dirty_mib, "--dirty-mib"), count, "--dirty-mib")
    spread(parse_values(args.dirty_rate, "--dirty-rate"), count, "--dirty-rate")
    if pid := supervisor_pid(directory):
        raise LabError(f"a lab already runs in {directory} (pid {pid}); run `migtui lab down --dir {args.dir}` first")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / STATE_FILE).unlink(missing_ok=True)  # an old one would read as ready
        log = open(directory / LOG_FILE, "ab")  # noqa: SIM115 - the with below closes it, once the supervisor has it
    except FileExistsError:
        raise LabError(f"cannot use {args.dir} as the lab directory: it is a file") from None
    except OSError as error:
        raise LabError(f"cannot use {args.dir} as the lab directory: {error.strerror or error}"
                       + (f" ({error.filename})" if error.filename else "")) from None
    argv = [
        sys.executable, "-m", SUPERVISOR_MODULE, str(directory),
        "--vms", str(args.vms), "--mem", str(args.mem),
        "--dirty-mib", args.dirty_mib, "--dirty-rate", args.dirty_rate,
    ] + (["--disk"] if args.disk else []) + (
        ["--hosts", str(args.hosts), "--vms-per-host", str(args.vms_per_host)] if args.hosts else []
    ) + (["--link", args.link] if args.link else []) + (
        ["--libvirt", "--transport", args.transport] if args.libvirt else [])
    with log:
        # A session of its own: the lab outlives this command and its terminal.
        supervisor = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    state = _wait_ready(directory, supervisor)
    for host in _libvirt_hosts(state):
        print(f"{host['name']:<12} {host['address']:<14} libvirtd pid {host['libvirtd_pid']:<8} "
              f"domains: {', '.join(host['domains']) or '-'}")
    for vm in state["vms"]:
        where = f"on {vm['host']:<6} " if vm.get("host") else ""
        print(f"{vm['name']:<12} pid {vm['pid']:<8} {where}{vm['notes']}")
    print(f"inventory: {directory / INVENTORY_FILE}")
    print(f"stop with: migtui lab down --dir {args.dir}")
    return 0


def _wait_ready(directory: Path, supervisor: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + UP_TIMEOUT_S
    while True:
        state = read_state(directory)
        if state and state.get("ready"):
            return state
        if supervisor.poll() is not None:
            why = (state or {}).get("error") or one_line(read_tail(directory / LOG_FILE, 2000)) or "no output"
            raise LabError(f"the lab did not start: {why}")
        if time.monotonic() > deadline:
            supervisor.terminate()  # its QEMUs die with it
            raise LabError(f"the lab did not start within {UP_TIMEOUT_S:g} s (see {directory / LOG_FILE})")
        time.sleep(0.05)


def lab_status(args: argparse.Namespace) -> int:
    directory = _directory(args)
    state = read_state(directory)
    if state is None:
        raise LabError(f"no lab in {directory} (start one with `migtui lab up --dir {args.dir}`)")
    pid = supervisor_pid(directory)
    print(f"supervisor   pid {state['supervisor_pid']:<8} {'running' if pid else 'stopped'}")
    for host in _libvirt_hosts(state):
        alive = process_runs(host["libvirtd_pid"], b"libvirtd")
        print(f"{host['name']:<12} {host['address']:<14} libvirtd pid {host['libvirtd_pid'] or '-':<8} "
              f"{'alive' if alive else 'dead'}")
        if process_runs(host["holder_pid"], HOLDER_MARKER):
            for name, domain_state in list_domains(host["holder_pid"]):
                print(f"{name:<12} on {host['name']:<9} {domain_state}")
    for vm in state["vms"]:
        alive = qemu_runs(vm["pid"])
        restarts = f", restarted {vm['restarts']}x" if vm["restarts"] else ""
        failure = f" ({vm['failure']})" if vm["failure"] and not alive else ""
        line = f"{vm['name']:<12} pid {vm['pid'] or '-':<8} {'alive' if alive else 'dead':<6} {vm['notes']}"
        print(f"{line}{restarts}{failure}")
    return 0 if pid else NOT_RUNNING


def _libvirt_hosts(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [host for host in state.get("hosts") or [] if "libvirtd_pid" in host]


def _libvirt_processes(state: dict[str, Any]) -> list[int]:
    """Every process of the lab's libvirt hosts (holders, daemons, QEMUs), found through their namespaces."""
    pids = []
    for host in _libvirt_hosts(state):
        if process_runs(host["holder_pid"], HOLDER_MARKER):
            try:
                pids += processes_in(os.readlink(f"/proc/{host['holder_pid']}/ns/net"))
            except OSError:
                continue
    return pids


def lab_down(args: argparse.Namespace) -> int:
    directory = _directory(args)
    state = read_state(directory) or {"vms": []}
    if _libvirt_hosts(state):
        return _libvirt_down(directory, state)
    qemu_pids = [vm["pid"] for vm in state["vms"] if qemu_runs(vm["pid"])]
    pid = supervisor_pid(directory)
    if pid is None and not qemu_pids:
        print(f"no lab running in {directory}")
        return 0
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
    else:  # cannot happen with PDEATHSIG, unless the state file is stale
        for qemu in qemu_pids:
            os.kill(qemu, signal.SIGKILL)
    if not _gone([pid, *qemu_pids], DOWN_TIMEOUT_S):
        if pid is not None:
            os.kill(pid, signal.SIGKILL)  # QEMUs die with it (PDEATHSIG)
        if not _gone([pid, *qemu_pids], 10.0):
            raise LabError(f"processes of the lab in {directory} are still running")
    print(f"stopped {len(qemu_pids)} VMs in {directory}")
    return 0


def _gone(pids: list[int | None], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(_runs(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _runs(pid: int | None) -> bool:
    return qemu_runs(pid) or process_runs(pid, SUPERVISOR_MODULE.encode())


def _libvirt_down(directory: Path, state: dict[str, Any]) -> int:
    """Stop a lab of libvirt hosts: its supervisor ends every host (their holders kill all of each)."""
    processes = _libvirt_processes(state)
    qemus = sum(process_runs(pid, b"qemu-system") for pid in processes)
    pid = supervisor_pid(directory)
    if pid is None and not processes:
        print(f"no lab running in {directory}")
        return 0
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
    else:  # cannot happen (the holders end their hosts when the supervisor dies), unless the state file is stale
        for holder in (host["holder_pid"] for host in _libvirt_hosts(state)):
            if process_runs(holder, HOLDER_MARKER):
                os.kill(holder, signal.SIGTERM)
    if not _gone_all([pid, *processes], DOWN_TIMEOUT_S):
        if pid is not None and _runs(pid):
            os.kill(pid, signal.SIGKILL)  # its hosts' holders get SIGTERM (PDEATHSIG) and end them
        if not _gone_all([pid, *processes], 10.0):
            raise LabError(f"processes of the lab in {directory} are still running")
    hosts = len(_libvirt_hosts(state))
    print(f"stopped {qemus} domains on {hosts} libvirt hosts in {directory}")
    return 0


def _gone_all(pids: list[int | None], timeout: float) -> bool:
    """Whether every one of ``pids`` has ended (a zombie has) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while any(process_runs(p, b"") for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
