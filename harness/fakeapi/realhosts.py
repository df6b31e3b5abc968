"""``https://auth.openai.com`` and ``https://chatgpt.com`` inside the container, for the builds that
cannot be pointed elsewhere.

A ChatGPT login calls two real hosts that some builds hard-code:

* **auth.openai.com**: the token refresh (``POST /oauth/token``, after a 401 or when the tokens age).
  From 0.57.0 codex takes ``CODEX_REFRESH_TOKEN_URL_OVERRIDE`` and the fake answers on its own route;
  0.20.0–0.55.0 call the real host, and logged "Failed to refresh token: error sending request"
  (0.50.0–0.55.0) or waited for their timeout (0.29–0.42).
* **chatgpt.com**: 0.104.0–0.110.0 fetch the model list from ``/backend-api/codex/models`` whatever
  ``chatgpt_base_url`` says; each run waited 5 s for the name to resolve, then logged "failed to
  refresh available models" (0.116+ ask ``{openai_base_url}/models``, which the fake answers).

A network-less container reaches neither, a red cell or a stall no real user meets. A real environment
answers these calls, so the fake world does too: the run containers map both names to 127.0.0.1 (their
/etc/hosts), this server answers TLS on port 443 with a certificate of the fake world's own CA (``tls/``:
test-only, its key destroyed after signing; the builds read their trust roots from ``SSL_CERT_FILE``,
which the ChatGPT setup points at that CA), and each call goes to the fake API's route of the cell whose
token it carries (the refresh token, or the access token as bearer), so it is journaled and answered
as the fake answers the call made to it directly, with ``via <host>`` in the journal's ``call``.

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

AUTH_HOST = "auth.openai.com"
CHATGPT_HOST = "chatgpt.com"
HOSTS = (AUTH_HOST, CHATGPT_HOST)
TLS_DIR = Path(__file__).resolve().parent / "tls"
#: The fake world's CA: what ``SSL_CERT_FILE`` names for a build that must trust this server.
CA_FILE = TLS_DIR / "ca.pem"
#: Header a routed call carries to the fake API, so its journal (and the fingerprint) names the host.
VIA_HEADER = "X-Codex-Matrix-Via"
_MAX_BODY = 1 << 20
_TOKEN = re.compile(r'"refresh_token"\s*:\s*"([^"]+)"')


class RealHosts:
    """The TLS server and the token → cell route table (one per container)."""

    def __init__(self, port: int = 443) -> None:
        self.port = port
        self._routes: dict[str, str] = {}  # refresh or access token → the cell's fake API root
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.problem: str | None = None  # why it could not start (then builds without the override stay red)

    def route(self, token: str, api_root: str) -> None:
        """Send a call carrying ``token`` (a refresh token, or an access token as bearer) to the cell's
        fake API at ``api_root``."""
        with self._lock:
            self._routes[token] = api_root

    def target(self, token: str | None) -> str | None:
        with self._lock:
            return self._routes.get(token) if token else None

    def start(self) -> RealHosts:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        except OSError as exc:  # not root, or the port is taken: the cells will say what they could not reach
            self.problem = f"cannot serve {', '.join(HOSTS)} on 127.0.0.1:{self.port}: {exc.strerror or exc}"
            return self
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]  # the port bound (0 asks for any free one: tests)
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-real-hosts", daemon=True).start()
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


def upstream(host: str, path: str, body: bytes, content_type: str, bearer: str | None) -> tuple[str, str | None]:
    """(path on the cell's fake API, the token that names the cell) for a call to a real host."""
    path = path.split("?")[0]
    if host == AUTH_HOST and path == "/oauth/token":
        return "/oauth/token", refresh_token_of(body, content_type)
    if host == CHATGPT_HOST and path == "/backend-api/codex/models":
        return "/v1/models", bearer
    if host == CHATGPT_HOST and path.startswith("/backend-api/"):
        return path, bearer
    return path, None


def _handler(hosts: RealHosts) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # the fake API's journal is the record
            pass

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def _forward(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
            body = self.rfile.read(length) if length else b""
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            auth = self.headers.get("Authorization") or ""
            bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            path, token = upstream(host, self.path, body, self.headers.get("Content-Type", ""), bearer)
            root = hosts.target(token)
            if root is None:
                self._send(401, b'{"error": {"message": "unknown token", "type": "invalid_request_error"}}')
                return
            headers = {VIA_HEADER: host, **({"Content-Type": self.headers["Content-Type"]}
                                            if self.headers.get("Content-Type") else {}),
                       **({"Authorization": auth} if auth else {})}
            request = urllib.request.Request(f"{root}{path}", data=body if self.command == "POST" else None,
                                             method=self.command, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # the loopback fake API
                    status, payload = answer.status, answer.read()
            except urllib.error.HTTPError as exc:
                status, payload = exc.code, exc.read()
            except OSError:
                status, payload = 502, b'{"error": {"message": "fake API unreachable"}}'
            if status == 200 and path == "/oauth/token":
                try:
                    renewed = json.loads(payload)
                except ValueError:
                    renewed = {}
                for key in ("refresh_token", "access_token"):  # the next calls come with the new tokens
                    if isinstance(renewed, dict) and isinstance(renewed.get(key), str):
                        hosts.route(renewed[key], root)
            self._send(status, payload)

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

    return Handler
