"""``python -I forwarder.py FD HOST PORT``: each connection to the listening socket FD, bridged to HOST:PORT.

The lab of libvirt hosts binds FD on 127.0.0.1 in the root network namespace
and starts this inside its admin namespace (``nsenter --net=...``), where
HOST (a lab host's libvirtd) is reachable: ``qemu+tcp://127.0.0.1:LOCAL/system``
then works from the root namespace, which never joins the lab's network. It
dies with the lab (parent-death signal, and the admin namespace's end).

Run by path, with no imports from migtui: it starts in a few milliseconds.
"""

import contextlib
import socket
import sys
import threading


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def bridge(client: socket.socket, host: str, port: int) -> None:
    with client:
        try:
            upstream = socket.create_connection((host, port), timeout=10)
        except OSError as error:
            print(f"forwarder: {host}:{port}: {error}", file=sys.stderr, flush=True)
            return
        with upstream:
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            other = threading.Thread(target=pump, args=(client, upstream), daemon=True)
            other.start()
            pump(upstream, client)
            other.join()


def main() -> None:
    listener = socket.socket(fileno=int(sys.argv[1]))
    host, port = sys.argv[2], int(sys.argv[3])
    while True:
        client, _ = listener.accept()
        threading.Thread(target=bridge, args=(client, host, port), daemon=True).start()


if __name__ == "__main__":
    main()
