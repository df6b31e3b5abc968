"""Which credential a codex-native run will use, decided before the child starts.

Order: an explicit key, then ``CODEX_API_KEY``, then ``OPENAI_API_KEY``, then codex's own
``auth.json`` in CODEX_HOME. The two environment keys are *bridged*: the lane reads them from its own
environment and hands the key to the child explicitly (source ``explicit-api-key``), because the child
gets a built environment, never the host's — and because codex itself stopped reading
``OPENAI_API_KEY`` for exec in 0.36, so "it is in my environment" would otherwise silently not work.

``auth.json`` is not read into memory as a key: codex reads it from CODEX_HOME itself, so the lane only
checks that it holds something codex can authenticate with (an API key or ChatGPT tokens).

Empty or whitespace-only values count as absent: an exported-but-empty variable is a common mistake
and must not make a run look authenticated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CredentialSource = Literal["explicit-api-key", "auth-json", "none"]

#: Environment variables the lane bridges into an explicit key, in precedence order.
BRIDGED_ENV_KEYS: tuple[str, ...] = ("CODEX_API_KEY", "OPENAI_API_KEY")


@dataclass(frozen=True)
class Credential:
    """Where the run's credential comes from; ``key`` is set only for ``explicit-api-key`` and never shown."""

    source: CredentialSource
    origin: str | None
    key: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """Human wording without the key, e.g. ``"explicit API key (from CODEX_API_KEY)"``."""
        if self.source == "explicit-api-key":
            return "explicit API key" if self.origin == "explicit" else f"API key from {self.origin}"
        if self.source == "auth-json":
            return "codex's auth.json"
        return "no credential"


NO_CREDENTIAL = Credential(source="none", origin=None)


def default_codex_home(env: Mapping[str, str]) -> Path | None:
    """Where codex itself looks: ``$CODEX_HOME``, else ``$HOME/.codex``; None if neither is set."""
    if env.get("CODEX_HOME"):
        return Path(env["CODEX_HOME"])
    if env.get("HOME"):
        return Path(env["HOME"]) / ".codex"
    return None


def _nonempty(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def auth_json_usable(codex_home: Path) -> bool:
    """True when ``codex_home/auth.json`` holds an API key or ChatGPT tokens codex can use."""
    try:
        data: Any = json.loads((codex_home / "auth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if _nonempty(data.get("OPENAI_API_KEY")):
        return True
    tokens = data.get("tokens")
    return isinstance(tokens, dict) and _nonempty(tokens.get("access_token"))


def resolve_credential(explicit_key: str | None, env: Mapping[str, str], codex_home: Path | None) -> Credential:
    """The module docstring's order. ``codex_home`` None → codex's own default (see ``default_codex_home``)."""
    if _nonempty(explicit_key):
        assert explicit_key is not None
        return Credential(source="explicit-api-key", origin="explicit", key=explicit_key.strip())
    for name in BRIDGED_ENV_KEYS:
        value = env.get(name)
        if _nonempty(value):
            assert value is not None
            return Credential(source="explicit-api-key", origin=name, key=value.strip())
    home = codex_home if codex_home is not None else default_codex_home(env)
    if home is not None and auth_json_usable(home):
        return Credential(source="auth-json", origin="auth.json")
    return NO_CREDENTIAL


def api_key_available(explicit_key: str | None, env: Mapping[str, str]) -> str | None:
    """Origin of a raw API key the old ``api`` lane could use (auth.json does not count); None if none."""
    if _nonempty(explicit_key):
        return "explicit"
    for name in BRIDGED_ENV_KEYS:
        if _nonempty(env.get(name)):
            return name
    return None
