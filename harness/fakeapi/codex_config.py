"""The one CODEX_HOME ``config.toml`` that points every codex build (0.20-0.169) at the fake API.

Unknown keys are ignored by every build, so a single file fits all: each setting below exists to
stop one build's deviation (facts §3.1, §3.4). No ``env_key``: codex's own credential logic must run
(CODEX_API_KEY from 0.44, auth.json always), because that logic is what the matrix tests.

Retries are on, as users have them (codex's defaults are 4 request and 5 stream retries with a 300 s
idle timeout): one retry of each kind shows every build's retry behaviour, and keeps a persistent
failure to about a second instead of ~25 s (measured on 0.20.0–0.169.0). matrix.yaml's ``codex:``
section can change them.

``requires_openai_auth = true`` is required from 0.146-0.150 on: those builds attach codex's own
credential (CODEX_API_KEY / auth.json) to a custom provider only when it is set, and otherwise send no
``Authorization`` header at all (measured: 0.145 sends the key without it, 0.150 and 0.169 do not).
0.20-0.145 send the credential either way, and with no credential every tested build still sends the request
without the header (no login prompt), so the flag changes nothing but the 0.150+ credential.

Builds before 0.20 (0.8.0) know no ``requires_openai_auth``: they give a custom provider a credential
only through its ``env_key``, so with the ``fake`` provider codex's own credential logic never ran
(measured on 0.8.0: no Authorization header with CODEX_API_KEY, OPENAI_API_KEY or auth.json). A user of
0.8.0 runs its built-in ``openai`` provider, whose credential is OPENAI_API_KEY (it demands that
variable and reads no API key from auth.json, see harness.suite.expectations); so do these builds
here, pointed at the fake by ``OPENAI_BASE_URL`` (which 0.8.0 reads), with their own retry defaults (a
built-in provider cannot be reconfigured).

TOML is written by hand (3.11 has ``tomllib`` but no writer); strings go through ``json.dumps``,
whose escapes are a subset of TOML basic-string escapes when ``ensure_ascii`` is off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

_Value = str | bool | int


def _toml_value(value: _Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


#: codex's retry settings the matrix runs with unless matrix.yaml's ``codex:`` says otherwise.
DEFAULT_PROVIDER_SETTINGS: dict[str, int] = {
    "request_max_retries": 1,
    "stream_max_retries": 1,
    "stream_idle_timeout_ms": 1000,
}


#: The first build that knows ``requires_openai_auth`` (none was published between 0.8.0 and 0.20.0).
CUSTOM_PROVIDER_AUTH_FROM = (0, 20)


def uses_builtin_provider(version: tuple[int, ...] | None) -> bool:
    """True for a build (``(0, 8, 0)``) that must run its built-in ``openai`` provider to run its own
    credential logic; None (unknown) keeps the ``fake`` provider."""
    return version is not None and version[:2] < CUSTOM_PROVIDER_AUTH_FROM


def provider_env(provider_url: str, version: tuple[int, ...] | None) -> dict[str, str]:
    """Environment a build needs to reach the fake: ``OPENAI_BASE_URL`` for a built-in-provider build."""
    return {"OPENAI_BASE_URL": provider_url} if uses_builtin_provider(version) else {}


def render_codex_config(provider_url: str, *, model: str | None = None,
                        provider_settings: Mapping[str, int] | None = None,
                        version: tuple[int, ...] | None = None) -> str:
    """The config text; root keys first, because TOML assigns keys after a header to that table.

    ``model`` None leaves the build's own default model in place. ``version``: the build's, when it
    changes the file (:func:`uses_builtin_provider`: no ``fake`` provider, see :func:`provider_env`).
    """
    if not provider_url.startswith(("http://", "https://")):
        raise ValueError(f"provider_url {provider_url!r} is not an http(s) URL: pass FakeResponsesAPI.provider_url()")
    builtin = uses_builtin_provider(version)
    tables: list[tuple[str | None, dict[str, _Value]]] = [
        (None, {
            **({"model": model} if model else {}),
            **({} if builtin else {"model_provider": "fake"}),
            # ChatGPT-login builds call ChatGPT's backend and refresh their model catalog: both land on
            # the fake, which answers and journals them (harness/fakeapi/chatgpt.py)
            "chatgpt_base_url": provider_url.removesuffix("/v1") + "/backend-api/",
            "openai_base_url": provider_url,
        }),
        (
            "model_providers.fake",
            {
                "name": "fake",
                "base_url": provider_url,  # codex POSTs {base_url}/responses
                "wire_api": "responses",  # default was "chat" up to 0.90
                "requires_openai_auth": True,  # 0.149+ send no credential to a custom provider without it
                **{**DEFAULT_PROVIDER_SETTINGS, **(provider_settings or {})},
            },
        ),
        # apps: the apps/connectors MCP client of 0.117+ (ChatGPT login); remote_models: 0.98's catalog
        # refresh from chatgpt.com. Measured: these keys are known or silently ignored by every build.
        ("features", {"plugins": False, "unbounded_connection_retries": False, "apps": False,
                      "remote_models": False}),
        ("analytics", {"enabled": False}),
        ("otel", {"metrics_exporter": "none"}),
    ]
    if builtin:
        tables = [(header, values) for header, values in tables if header != "model_providers.fake"]
    lines: list[str] = []
    for header, values in tables:
        if header is not None:
            lines.extend(["", f"[{header}]"])
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"


def write_codex_config(codex_home: Path, provider_url: str, *, model: str | None = None,
                       provider_settings: Mapping[str, int] | None = None,
                       version: tuple[int, ...] | None = None) -> Path:
    """Write ``codex_home/config.toml`` (creating ``codex_home``) and return its path."""
    codex_home = Path(codex_home)
    codex_home.mkdir(parents=True, exist_ok=True)
    path = codex_home / "config.toml"
    path.write_text(render_codex_config(provider_url, model=model, provider_settings=provider_settings,
                                        version=version),
                    encoding="utf-8")
    return path
