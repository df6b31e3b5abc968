"""A Unix-socket proxy in front of the Docker daemon: killing it is the daemon dying, as the harness sees it.

``python -m tests.faults.dockerproxy LISTEN UPSTREAM`` forwards every connection on the socket LISTEN
to the socket UPSTREAM (``/var/run/docker.sock``), bytes both ways (hijacked exec streams included).
A harness pointed at it with ``DOCKER_HOST=unix://LISTEN`` loses its daemon the moment the proxy is
killed (open connections break, new ones are refused), while its containers keep running in the
real daemon: exactly what a crashed or restarted dockerd leaves behind (with live-restore, or while
containerd keeps the shims alive), without running a second daemon or disturbing anyone else's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def serve(listen: str, upstream: str) -> None:
    if os.path.exists(listen):
        os.unlink(listen)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen)
    server.listen(64)
    while True:
        client, _ = server.accept()
        backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        backend.connect(upstream)
        threading.Thread(target=_pump, args=(client, backend), daemon=True).start()
        threading.Thread(target=_pump, args=(backend, client), daemon=True).start()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
