"""A fake OpenAI Responses API on loopback that many matrix cells share at once: the harness's face of it
(start, stop, URLs, journal, keys); the HTTP side is :mod:`harness.fakeapi.handler`.

Each cell points codex at ``/s/<scenario>/<tag>/v1`` (codex POSTs ``{base_url}/responses``), so the
scenario and the cell's tag travel in the URL: one server can answer one cell with a tool call while it
refuses another's key, and the journal can be cut per cell. Every response closes its connection, which
also delimits SSE bodies (no chunked framing), so ``disconnect`` is a plain EOF before
``response.completed`` exactly as a dropped upstream stream looks to codex.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from types import TracebackType
from typing import Any

from harness.fakeapi import scenarios as sc
from harness.fakeapi.handler import POLL_S, TAG, Server, State
from harness.fakeapi.realhosts import RealHosts


class FakeResponsesAPI:
    """The fake API as a context manager; see the module docstring for the URL scheme."""

    def __init__(
        self,
        *,
        valid_keys: Collection[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        reply_text: str = "OK",
    ) -> None:
        if isinstance(valid_keys, str):
            raise TypeError("valid_keys must be a collection of keys, not a single string")
        self._state = State(valid_keys, reply_text)
        self._address = (host, port)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._real_hosts: RealHosts | None = None

    def __repr__(self) -> str:  # never the keys themselves
        where = self.base_url if self._server is not None else "not started"
        return f"FakeResponsesAPI({where}, valid_keys={len(self._state.valid_keys)})"

    def start(self) -> FakeResponsesAPI:
        if self._server is not None or self._state.stopping.is_set():
            raise RuntimeError("FakeResponsesAPI can be started once; create a new instance")
        self._server = Server(self._address, self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_S},
            name=f"fakeapi-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_real_hosts(self, port: int = 443) -> str | None:
        """Answer ``https://auth.openai.com`` and ``https://chatgpt.com`` too (:mod:`harness.fakeapi.realhosts`);
        None, or why not."""
        if self._real_hosts is None:
            self._real_hosts = RealHosts(port).start()
        return self._real_hosts.problem

    def route_token(self, token: str, api_root: str) -> None:
        """A call to a real host carrying ``token`` goes to the fake API at ``api_root``."""
        if self._real_hosts is not None:
            self._real_hosts.route(token, api_root)

    def stop(self) -> None:
        """Return promptly: wake hanging handlers, stop accepting, close the listening socket."""
        if self._real_hosts is not None:
            self._real_hosts.stop()
        self._state.stopping.set()
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(timeout=1)

    def __enter__(self) -> FakeResponsesAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeResponsesAPI is not started: call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def provider_url(self, scenario: str = "ok", tag: str = "default") -> str:
        """The ``base_url`` for codex's provider config: codex appends ``/responses``."""
        if scenario not in sc.SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}: pick one of {', '.join(sc.SCENARIOS)}")
        if not TAG.fullmatch(tag):
            raise ValueError(f"invalid tag {tag!r}: use 1-128 chars of [A-Za-z0-9._-], starting alphanumeric")
        return f"{self.base_url}/s/{scenario}/{tag}/v1"

    def journal(self, tag: str | None = None) -> list[dict[str, Any]]:
        """Copies of the journal entries in arrival order, optionally only one cell's (by tag)."""
        return self._state.journal.entries(tag)

    def release(self, tag: str) -> None:
        """Let the held answer of ``tag`` go (see ``wait_released``); harmless when nothing is held."""
        self._state.gate(tag).set()

    def set_models(self, models: list[dict[str, Any]]) -> None:
        """What ``GET {base}/models`` answers: catalog entries (copied from the build's own catalog)."""
        self._state.models = list(models)

    def add_valid_key(self, key: str, *, kind: str | None = None) -> None:
        if not key:
            raise ValueError("an empty key can't be presented as a credential: pass a non-empty key")
        with self._state.lock:
            self._state.valid_keys = self._state.valid_keys | {key}
            if kind is not None:
                self._state.key_kinds[key] = kind
