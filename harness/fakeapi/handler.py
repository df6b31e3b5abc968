"""The fake API's HTTP side: one request in, routed by its URL to its scenario, journalled, answered.

Each cell points codex at ``/s/<scenario>/<tag>/v1`` (codex POSTs ``{base_url}/responses``). The handler
reads the body (chunked, gzip or deflate as codex sends it), journals who asked what, and hands the
request to its scenario as an :class:`~harness.fakeapi.scenarios.Exchange`; a ChatGPT login's calls
beside ``/responses`` (model list, backend API, token refresh) are answered here too. Every response
closes its connection, which also delimits SSE bodies (no chunked framing).
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import select
import socket
import sys
import threading
import time
import zlib
from collections.abc import Collection, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from harness.fakeapi import chatgpt
from harness.fakeapi import scenarios as sc
from harness.fakeapi.journal import Journal, bearer_key, classify, key_fingerprint, utc_now
from harness.fakeapi.realhosts import HOSTS as REAL_HOSTS
from harness.fakeapi.realhosts import VIA_HEADER
from harness.fakeapi.sent import error_message, sent_summary, tool_results
from harness.fakeapi.wire import (
    NOT_FOUND_BODY,
    declared_tool_names,
    has_tool_output,
    message_item,
    sse_event,
    tool_outputs,
)

_ROUTE = re.compile(r"^/s/(?P<scenario>[^/]+)/(?P<tag>[^/]+)(?P<rest>/.*)?$")
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # fullmatch
_MAX_BODY = 64 * 1024 * 1024  # codex bodies are ~25-50 KB; this only stops a runaway client
POLL_S = 0.05


class State:
    """What handler threads share; keys are swapped as a whole frozenset so reads need no lock."""

    def __init__(self, valid_keys: Collection[str], reply_text: str) -> None:
        self.valid_keys: frozenset[str] = frozenset(valid_keys)
        self.reply_text = reply_text
        self.journal = Journal()
        self.stopping = threading.Event()
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.gates: dict[str, threading.Event] = {}  # tag -> set when the harness releases a held answer
        self.attempts: dict[str, int] = {}  # tag -> requests seen (a flaky scenario fails only the first)
        self.key_kinds: dict[str, str] = {}  # valid key -> what it is (e.g. a ChatGPT access token)
        self.models: list[dict[str, Any]] = []  # what GET /models answers (the cell's catalog entry)
        # response id -> tool results in its conversation, for a build that continues a stored response
        # (``store: true`` + ``previous_response_id``, sending only the new items: 0.8.0) as the real API does
        self.stored: dict[str, int] = {}

    def next_attempt(self, tag: str) -> int:
        with self.lock:
            self.attempts[tag] = self.attempts.get(tag, 0) + 1
            return self.attempts[tag]

    def gate(self, tag: str) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(tag, threading.Event())


class Server(ThreadingHTTPServer):
    daemon_threads = True  # an open 'hang' request must never keep the process (or stop()) waiting
    request_queue_size = 128  # the default 5 drops SYNs when many cells connect at once (1 s retransmit)

    def __init__(self, address: tuple[str, int], state: State) -> None:
        self.state = state
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients (codex under a timeout) drop connections mid-stream; that is expected, not a bug."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """One request; also the :class:`~harness.fakeapi.scenarios.Exchange` its scenario answers through."""

    protocol_version = "HTTP/1.1"
    server: Server
    body: Mapping[str, Any]
    entry: dict[str, Any]
    attempt: int
    tool_outputs: int = 0

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the journal is the log, and default logging would echo request lines to stderr."""

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    # -- request ---------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(max(length, 0), _MAX_BODY))
        encoding = self.headers.get("Content-Encoding", "").lower()
        try:
            if encoding == "gzip":
                return gzip.decompress(raw)
            if encoding == "deflate":
                return zlib.decompress(raw)
        except (OSError, zlib.error, EOFError):
            return b""
        return raw

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                raise ValueError("request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _dispatch(self) -> None:
        self.close_connection = True
        state = self.server.state
        try:
            payload = json.loads(self._read_body() or b"{}")
        except ValueError:
            payload = {}
        body: Mapping[str, Any] = payload if isinstance(payload, dict) else {}
        path = urlsplit(self.path).path
        match = _ROUTE.fullmatch(path)
        scenario = match["scenario"] if match else None
        key = bearer_key(self.headers.get("Authorization"))
        credential = classify(key, state.valid_keys)
        model = body.get("model")
        entry: dict[str, Any] = {
            "tag": match["tag"] if match else None,
            "scenario": scenario,
            "method": self.command,
            "path": path,
            "status": None,
            "credential": credential,
            "credential_sha256": key_fingerprint(key),
            "model": model if isinstance(model, str) else None,
            "tools": declared_tool_names(body),
            "has_tool_output": has_tool_output(body),
            "tool_results": tool_results(body),
            "tool_called": None,
            "user_agent": self.headers.get("User-Agent"),
            "originator": self.headers.get("originator"),
            "time": utc_now(),
        }
        if key is not None and key in state.key_kinds:
            entry["credential_kind"] = state.key_kinds[key]
        rest = (match["rest"] or "") if match else ""
        routed = (
            match is not None
            and rest == "/v1/responses"
            and self.command == "POST"
            and scenario in sc.SCENARIOS
        )
        self.body, self.entry = body, entry
        self.attempt = entry["attempt"] = state.next_attempt(str(entry["tag"])) if routed else 0
        previous = body.get("previous_response_id")
        self.tool_outputs = tool_outputs(body) + (state.stored.get(previous, 0) if isinstance(previous, str) else 0)
        if match is not None and not routed and self._beyond_responses(rest):
            return
        if not routed:
            self.send_json(404, NOT_FOUND_BODY)
        elif credential != "valid":  # every scenario needs the cell's key, as the real API does
            sc.SCENARIOS["unauthorized"].respond(self)
        else:
            assert scenario is not None
            sc.SCENARIOS[scenario].respond(self)

    def _beyond_responses(self, rest: str) -> bool:
        """Calls a build makes beside ``POST /responses`` (ChatGPT login): answered, and journalled
        with ``call`` naming them. True when answered here."""
        state = self.server.state
        if rest == "/v1/models" and self.command == "GET":
            self.entry["call"] = "GET models" + self._via()
            self.send_json(200, json.dumps({"models": state.models}).encode())
            return True
        if rest.startswith("/backend-api/"):
            path = rest.removeprefix("/backend-api/").split("?")[0]
            self.entry["call"] = f"{self.command} backend-api/{path}" + self._via()
            answer = chatgpt.BACKEND_ANSWERS.get(path)
            if answer is None:
                self.send_json(404, NOT_FOUND_BODY)
            else:
                self.send_json(200, json.dumps(answer).encode())
            return True
        if rest == "/oauth/token" and self.command == "POST":
            # a build that cannot be pointed here refreshed at auth.openai.com, which routed it (authhost)
            self.entry["call"] = "POST oauth/token" + self._via()
            tokens = chatgpt.make_tokens()
            with state.lock:
                state.valid_keys = state.valid_keys | {tokens["access_token"]}
                state.key_kinds[tokens["access_token"]] = chatgpt.ACCESS_TOKEN
            self.send_json(200, json.dumps({k: tokens[k] for k in ("id_token", "access_token", "refresh_token")})
                           .encode())
            return True
        return False

    def _via(self) -> str:
        """`` via <host>`` when a real host's stand-in handed this call on (harness.fakeapi.realhosts)."""
        via = self.headers.get(VIA_HEADER)
        return f" via {via}" if via in REAL_HOSTS else ""

    # -- what a scenario uses (scenarios.Exchange) ---------------------------------------------------

    def new_id(self, prefix: str) -> str:
        with self.server.state.lock:
            return f"{prefix}_{next(self.server.state.ids)}"

    def message(self) -> dict[str, Any]:
        return message_item(self.new_id("msg"), self.server.state.reply_text)

    def wait_released(self, cap_s: float) -> float:
        """Hold this answer until the harness calls ``release(tag)`` (or ``cap_s`` passes); seconds held.

        The gate re-arms, so a later request of the same tag waits for its own release.
        """
        gate = self.server.state.gate(str(self.entry.get("tag")))
        started = time.monotonic()
        gate.wait(cap_s)
        gate.clear()
        return round(time.monotonic() - started, 3)

    def hang(self) -> None:
        """Answer nothing until stop(), or until the client gives up (so threads don't pile up)."""
        self.server.state.journal.append(self.entry)  # status stays None: the request is never answered
        while not self.server.state.stopping.wait(POLL_S):
            if self._client_gone():
                return

    def _client_gone(self) -> bool:
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # -- response --------------------------------------------------------------------------------

    def send_json(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.entry["status"] = status
        if status >= 400:
            self.entry["error"] = error_message(body)
        self.server.state.journal.append(self.entry)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_sse(self, events: Sequence[Mapping[str, Any]]) -> None:
        for event in events:  # the response is stored with its conversation so far: it may be continued
            response = event.get("response")
            if isinstance(response, Mapping) and isinstance(response.get("id"), str):
                with self.server.state.lock:
                    self.server.state.stored[response["id"]] = self.tool_outputs
                break
        self.entry["status"] = 200
        self.entry["completed"] = any(e.get("type") == "response.completed" for e in events)
        self.entry["sent"] = sent_summary(events)
        self.server.state.journal.append(self.entry)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in events:
            self.wfile.write(sse_event(event))
        self.wfile.flush()
