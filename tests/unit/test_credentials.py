"""Credential precedence, auth.json recognition and key hiding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.lane.credentials import (
    Credential,
    api_key_available,
    auth_json_usable,
    default_codex_home,
    resolve_credential,
)


def write_auth(home: Path, data: object) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "auth.json").write_text(json.dumps(data))
    return home


@pytest.fixture()
def auth_home(tmp_path: Path) -> Path:
    return write_auth(tmp_path / "codex-home", {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-fixture-auth"})


# (explicit key, CODEX_API_KEY, OPENAI_API_KEY, auth.json present) -> (source, origin, key)
PRECEDENCE = [
    ("sk-e", "sk-c", "sk-o", True, ("explicit-api-key", "explicit", "sk-e")),
    (None, "sk-c", "sk-o", True, ("explicit-api-key", "CODEX_API_KEY", "sk-c")),
    (None, None, "sk-o", True, ("explicit-api-key", "OPENAI_API_KEY", "sk-o")),
    (None, None, None, True, ("auth-json", "auth.json", None)),
    (None, None, None, False, ("none", None, None)),
    ("  ", "", "\t", False, ("none", None, None)),
    ("", " sk-c\n", None, False, ("explicit-api-key", "CODEX_API_KEY", "sk-c")),
]


@pytest.mark.parametrize(("explicit", "codex", "openai", "with_auth", "expected"), PRECEDENCE)
def test_precedence(
    explicit: str | None,
    codex: str | None,
    openai: str | None,
    with_auth: bool,
    expected: tuple[str, str | None, str | None],
    auth_home: Path,
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in {"CODEX_API_KEY": codex, "OPENAI_API_KEY": openai}.items() if v is not None}
    home = auth_home if with_auth else tmp_path / "empty-home"
    cred = resolve_credential(explicit, env, home)
    assert (cred.source, cred.origin, cred.key) == expected


@pytest.mark.parametrize(
    ("content", "usable"),
    [
        ({"OPENAI_API_KEY": "sk-x"}, True),
        ({"OPENAI_API_KEY": None, "tokens": {"access_token": "eyJ", "refresh_token": "r"}}, True),
        ({"OPENAI_API_KEY": ""}, False),
        ({"OPENAI_API_KEY": None, "tokens": None}, False),
        ({"tokens": {"access_token": ""}}, False),
        (["sk-x"], False),
        ("not json at all", False),
    ],
)
def test_auth_json_recognition(content: object, usable: bool, tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    raw = content if isinstance(content, str) else json.dumps(content)
    (home / "auth.json").write_text(raw)
    assert auth_json_usable(home) is usable
    assert resolve_credential(None, {}, home).source == ("auth-json" if usable else "none")


def test_codex_home_default_follows_codex(tmp_path: Path) -> None:
    write_auth(tmp_path / "ch", {"OPENAI_API_KEY": "sk-x"})
    write_auth(tmp_path / "home" / ".codex", {"OPENAI_API_KEY": "sk-y"})
    assert default_codex_home({"CODEX_HOME": str(tmp_path / "ch"), "HOME": "/x"}) == tmp_path / "ch"
    assert default_codex_home({"HOME": str(tmp_path / "home")}) == tmp_path / "home" / ".codex"
    assert default_codex_home({}) is None
    assert resolve_credential(None, {"HOME": str(tmp_path / "home")}, None).source == "auth-json"
    assert resolve_credential(None, {"CODEX_HOME": str(tmp_path / "nowhere")}, None).source == "none"
    assert resolve_credential(None, {}, None).source == "none"


def test_key_never_shown() -> None:
    cred = Credential(source="explicit-api-key", origin="CODEX_API_KEY", key="sk-secret-value-123")
    assert "sk-secret" not in repr(cred)
    assert "sk-secret" not in str(cred)
    assert "sk-secret" not in cred.describe()
    assert cred.describe() == "API key from CODEX_API_KEY"


def test_api_lane_key_ignores_auth_json(auth_home: Path) -> None:
    assert api_key_available(None, {}) is None
    assert api_key_available(" ", {"OPENAI_API_KEY": ""}) is None
    assert api_key_available("sk-e", {"CODEX_API_KEY": "sk-c"}) == "explicit"
    assert api_key_available(None, {"OPENAI_API_KEY": "sk-o", "CODEX_API_KEY": "sk-c"}) == "CODEX_API_KEY"
    assert api_key_available(None, {"OPENAI_API_KEY": "sk-o"}) == "OPENAI_API_KEY"
