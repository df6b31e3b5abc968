"""A local npm registry (stdlib http.server on 127.0.0.1) that misbehaves on demand.

``mode`` maps what is asked for (``"packument"`` or ``"tarball"``) to how it is answered:

* ``ok`` — as npm would;
* ``html`` — HTTP 200 with a ``text/html`` page (a proxy's login page, a wrong URL);
* ``garbage`` — HTTP 200 ``application/json`` that is not JSON;
* ``short`` — announces the full ``Content-Length``, sends half, closes (a connection cut short);
* ``trickle`` — one byte every ``trickle_s`` seconds (a mirror that never quite stops);
* ``hold`` — waits ``hold_s`` seconds, then answers ``ok`` (keeps the fetch lock busy for a while).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRIPLE = "x86_64-unknown-linux-musl"


def fake_codex(version: str, extra: str = "") -> bytes:
    """A ``codex`` that only knows ``--version``: enough for fetch, the image build and a failing cell."""
    return f'#!/bin/sh\n{extra}echo "codex-cli {version}"\n'.encode()


def tgz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo("package/" + name)
            info.size = len(content)
            info.mode = 0o755 if content.startswith(b"#!") else 0o644
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@dataclass
class HostileRegistry:
    url: str = ""
    mode: dict[str, str] = field(default_factory=lambda: {"packument": "ok", "tarball": "ok"})
    trickle_s: float = 0.5
    hold_s: float = 3.0
    versions: dict[str, dict[str, object]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)

    def publish(self, version: str, tarball: bytes) -> None:
        path = f"/@openai/codex/-/codex-{version}.tgz"
        self.files[path] = tarball
        self.versions[version] = {"name": "@openai/codex", "version": version,
                                  "dist": {"tarball": self.url + path.lstrip("/"), "integrity": sri(tarball)}}

    def publish_codex(self, version: str, extra: str = "", padding: int = 0) -> None:
        """A Linux x64 build of the 0.42-0.130 layout; ``padding`` bytes of zeros beside it (a big unpack)."""
        members = {"package.json": b"{}", f"vendor/{TRIPLE}/codex/codex": fake_codex(version, extra)}
        if padding:
            members[f"vendor/{TRIPLE}/codex/padding.bin"] = bytes(padding)
        self.publish(version, tgz(members))

    def packument(self) -> bytes:
        return json.dumps({"name": "@openai/codex", "dist-tags": {"latest": "0.117.0"},
                           "versions": self.versions}).encode()


def _handler(state: HostileRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.lower() == "/@openai%2fcodex":
                kind, body = "packument", state.packument()
            elif self.path in state.files:
                kind, body = "tarball", state.files[self.path]
            else:
                self.send_error(404)
                return
            mode = state.mode.get(kind, "ok")
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a deadline)
                self._answer(mode, body)

        def _answer(self, mode: str, body: bytes) -> None:
            if mode == "hold":
                time.sleep(state.hold_s)
                mode = "ok"
            if mode == "html":
                page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>proxy login</body></html>"
                self._head(page, "text/html; charset=utf-8")
                self.wfile.write(page)
            elif mode == "garbage":
                junk = b"this is not the json you are looking for \x00\xff"
                self._head(junk, "application/json")
                self.wfile.write(junk)
            elif mode == "short":
                self._head(body, "application/octet-stream")
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif mode == "trickle":
                self._head(body, "application/octet-stream")
                for i in range(len(body)):
                    if state.stopping.is_set():
                        return
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(state.trickle_s)
            else:
                self._head(body, "application/json" if body.startswith(b"{") else "application/octet-stream")
                self.wfile.write(body)

        def _head(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@contextmanager
def serve() -> Iterator[HostileRegistry]:
    state = HostileRegistry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        server.shutdown()
        server.server_close()
