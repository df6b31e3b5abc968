"""``https://auth.openai.com`` inside the container, for the builds that cannot be pointed elsewhere.

A ChatGPT login refreshes its tokens at ``https://auth.openai.com/oauth/token`` (after a 401, or when
they age). From 0.57.0 codex takes ``CODEX_REFRESH_TOKEN_URL_OVERRIDE`` and the fake answers the refresh
on its own route; 0.20.0–0.55.0 always call the real host, which a network-less container cannot reach,
so they logged "Failed to refresh token: error sending request" (0.50.0–0.55.0) or waited for their
timeout (0.29–0.42), a red cell no real user meets. A real environment answers that call, so the fake
world does too: the run containers map the host to 127.0.0.1 (their /etc/hosts), this server answers
TLS on port 443 with a certificate of the fake world's own CA (``tls/``: test-only, its key destroyed
after signing; builds 0.5x read their trust roots from ``SSL_CERT_FILE``, which the ChatGPT setup points
at that CA), and each refresh is handed to the fake API's route of the cell whose refresh token it is,
so it is journaled (``call: POST oauth/token``) and answered exactly as the override's refresh is.

Standard library only: it runs inside the per-version containers.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

HOST = "auth.openai.com"
TLS_DIR = Path(__file__).resolve().parent / "tls"
#: The fake world's CA: what ``SSL_CERT_FILE`` names for a build that must trust this server.
CA_FILE = TLS_DIR / "ca.pem"
#: Header the routed refresh carries to the fake API, so its journal (and the fingerprint) names the host.
VIA_HEADER = "X-Codex-Matrix-Via"
_MAX_BODY = 1 << 20
_TOKEN = re.compile(r'"refresh_token"\s*:\s*"([^"]+)"')


class AuthHost:
    """The TLS server and the refresh token → cell route table (one per container)."""

    def __init__(self, port: int = 443) -> None:
        self.port = port
        self._routes: dict[str, str] = {}  # refresh token → the cell's fake API root
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.problem: str | None = None  # why it could not start (then builds without the override stay red)

    def route(self, refresh_token: str, api_root: str) -> None:
        """Send a refresh with ``refresh_token`` to ``{api_root}/oauth/token`` (the cell's fake API)."""
        with self._lock:
            self._routes[refresh_token] = api_root

    def target(self, refresh_token: str) -> str | None:
        with self._lock:
            return self._routes.get(refresh_token)

    def start(self) -> AuthHost:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        except OSError as exc:  # not root, or the port is taken: the cells will say what they could not reach
            self.problem = f"cannot serve {HOST} on 127.0.0.1:{self.port}: {exc.strerror or exc}"
            return self
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]  # the port bound (0 asks for any free one: tests)
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-auth-host", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def refresh_token_of(body: bytes, content_type: str) -> str | None:
    """The refresh token a refresh request carries (JSON, as codex sends it, or form-encoded)."""
    text = body.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            found = _TOKEN.search(text)
            return found[1] if found else None
        token = data.get("refresh_token") if isinstance(data, dict) else None
        return token if isinstance(token, str) else None
    values = parse_qs(text).get("refresh_token")
    return values[0] if values else None


def _handler(host: AuthHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # the fake API's journal is the record
            pass

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
            body = self.rfile.read(length)
            token = refresh_token_of(body, self.headers.get("Content-Type", ""))
            root = host.target(token) if token and self.path.split("?")[0] == "/oauth/token" else None
            if root is None:
                self._send(401, b'{"error": {"message": "unknown refresh token", "type": "invalid_request_error"}}')
                return
            request = urllib.request.Request(f"{root}/oauth/token", data=body, method="POST",
                                             headers={"Content-Type": self.headers.get("Content-Type", ""),
                                                      VIA_HEADER: HOST})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status, payload = answer.status, answer.read()
            except urllib.error.HTTPError as exc:
                status, payload = exc.code, exc.read()
            except OSError:
                status, payload = 502, b'{"error": {"message": "fake API unreachable"}}'
            if status == 200:
                try:
                    renewed = json.loads(payload).get("refresh_token")
                except (ValueError, AttributeError):
                    renewed = None
                if isinstance(renewed, str):
                    host.route(renewed, root)  # the next refresh comes with the new token
            self._send(status, payload)

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

    return Handler
