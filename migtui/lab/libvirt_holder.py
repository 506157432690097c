"""``python -I libvirt_holder.py NAME``: holds a libvirt lab host's namespaces, and ends all of it.

The last process of the script that makes a host's namespaces (see
libvirt_namespaces.py), started with SIGTERM as its parent-death signal. On
SIGTERM (the lab closing, or the lab's process dying, even by SIGKILL) it
kills every other process of its network namespace, the QEMUs included:
libvirtd daemonizes them (their parent is init), so they do not die with the
lab on their own. Then it exits, and the host's namespaces go with it.

Run by path, with no imports from migtui: it starts in a few milliseconds.
"""

import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

MARKER = "/run/migtui-lab-host"
"""In the host's own /run: the host is ready (and its name). Seen from outside as /proc/PID/root/run/..."""
END_WITHIN_S = 10.0


def processes_in(net_id: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "net") == net_id:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def end_everything(signum: int, frame: object) -> None:
    mine, me = os.readlink("/proc/self/ns/net"), os.getpid()
    deadline = time.monotonic() + END_WITHIN_S
    while others := [pid for pid in processes_in(mine) if pid != me]:
        for pid in others:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            print(f"libvirt_holder: processes {others} outlived SIGKILL", file=sys.stderr, flush=True)
            os._exit(1)
        time.sleep(0.02)
    os._exit(0)


def main() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, end_everything)
    socket.sethostname(sys.argv[1])
    Path(MARKER).write_text(sys.argv[1] + "\n")
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
