"""``python netcat.py HOST PORT``: stdin to a TCP connection, the connection to stdout.

The lab's ssh_config runs it as a ProxyCommand inside the lab's admin
network namespace (``nsenter --net=...``), so that ssh and migtui reach the
lab's hosts from the root namespace, which never joins the lab's network.
Run by path, with no imports from migtui: it starts in a few milliseconds.
"""

import os
import socket
import sys
import threading


def _upstream(sock: socket.socket) -> None:
    try:
        while data := os.read(0, 65536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.create_connection((host, port), timeout=10)
    sock.settimeout(None)
    # QMP is small requests and answers: Nagle's wait for more would add ~40 ms to each.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=_upstream, args=(sock,), daemon=True).start()
    try:
        while data := sock.recv(65536):
            # sshd keeps Nagle on, so its next answer waits for our ACK: send it now
            # (Linux resets this after each use), as migtui's own connection does.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            view = memoryview(data)
            while view:
                view = view[os.write(1, view):]
    except OSError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
