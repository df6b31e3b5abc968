"""The request journal: what each cell's codex sent, minus bodies and secrets.

Contract tests assert on it (did the build send the credential we configured? which tools did it
declare? did it retry?), and it is written out as a per-cell artifact, so it must never hold a raw key:
the credential is reduced to a verdict and a short sha256 prefix that identifies it without revealing it.

Entry fields (all JSON-serialisable): ``tag``, ``scenario`` (both from the URL, None when the path has no
``/s/<scenario>/<tag>`` prefix), ``method``, ``path``, ``status`` (None for a ``hang`` request, which is
never answered), ``credential`` (``none|valid|invalid``), ``credential_sha256`` (12 hex chars or None),
``model``, ``tools`` (declared names in order; nameless tools show their type), ``has_tool_output``,
``tool_called`` (the shell tool the ``tool`` scenario called, else None), ``user_agent``, ``originator``,
``time`` (ISO-8601 UTC), ``attempt`` (1 for a tag's first request, 2 for the next…), ``completed`` (the
answer carried ``response.completed``), ``held_s`` (how long the ``tool`` follow-up was held). Request
bodies are not stored. What the fake *sent* (``sent``: response id, usage, output items; ``error``) and the
tool results codex sent back (``tool_results``) are described in :mod:`harness.fakeapi.sent`: they are
the contract suite's oracle.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from datetime import UTC, datetime
from typing import Any, Literal

Credential = Literal["none", "valid", "invalid"]


def bearer_key(authorization: str | None) -> str | None:
    """The key presented in an ``Authorization`` header; a non-Bearer value counts as the key itself."""
    if authorization is None:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    key = rest.strip() if scheme.lower() == "bearer" else value
    return key or None


def key_fingerprint(key: str | None) -> str | None:
    """First 12 hex chars of sha256: enough to tell keys apart in a report, useless to an attacker."""
    if key is None:
        return None
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def classify(key: str | None, valid_keys: frozenset[str]) -> Credential:
    """``none`` when no key was presented, else whether it is one the server accepts."""
    if key is None:
        return "none"
    return "valid" if key in valid_keys else "invalid"


def utc_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds (``datetime.fromisoformat`` parses it)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Journal:
    """Thread-safe, append-only list of request entries in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(copy.deepcopy(entry))

    def entries(self, tag: str | None = None) -> list[dict[str, Any]]:
        """Copies, so callers can't mutate the record; ``tag`` keeps one cell's requests."""
        with self._lock:
            selected = [e for e in self._entries if tag is None or e.get("tag") == tag]
            return copy.deepcopy(selected)
