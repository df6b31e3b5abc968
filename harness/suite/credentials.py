"""The credential setups of the matrix: the registry that owns their names and what each one means.

A setup is a way a user's machine can hold (or lack) a credential; a cell runs its scenarios with one.
Each entry says how the cell's environment and CODEX_HOME are prepared, which credential source the
lane must then report, and what the fake API must see. Everything else (matrix validation, the grid's
column headers, the contract tests, the legacy rules) reads these entries, so a new setup is one entry
here plus its name in ``matrix.yaml``.

Standard library only: the contract suite builds the environments inside the containers.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.fakeapi import chatgpt, realhosts

#: A key the fake API never accepts.
INVALID_KEY = "sk-matrix-invalid-0000000000000000"


@dataclass(frozen=True)
class SetupContext:
    """What a setup may use to prepare one run: the run's homes, the key the fake API accepts, a way to
    make the fake accept (and the redactor hide) a credential of the setup's own, and the fake's URL root
    for this run (``http://127.0.0.1:P/s/<scenario>/<tag>``)."""

    home: Path
    codex_home: Path
    valid_key: str
    accept: Callable[[str, str], None] = lambda key, kind: None
    api_root: str = ""
    #: send a call to a real host (auth.openai.com, chatgpt.com) carrying this token to this run's fake API
    route_token: Callable[[str], None] = lambda token: None


@dataclass(frozen=True)
class Prepared:
    """The environment variables a setup adds (``env``: what the lane sees; ``child_env``: what codex
    itself gets on top of the lane's built environment), and how the credential was stored."""

    env: dict[str, str]
    how: str
    child_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CredentialSetup:
    """One credential setup.

    ``env_var``: the environment variable that carries the key, if any (the lane bridges it into an
    explicit key; builds honour only some of them). ``lane_source``: the credential source the lane
    must report. ``api_sees``: what the fake API must see when the lane runs (``valid``, ``invalid``
    or ``none``). ``short``: the grid's column header.
    """

    name: str
    short: str
    prepare: Callable[[SetupContext], Prepared]
    lane_source: str
    api_sees: str
    env_var: str | None = None
    bearer_kind: str | None = None  # what the credential the API sees is, when the fake can tell

    @property
    def has_credential(self) -> bool:
        return self.lane_source != "none"


def _env_key(var: str, invalid: bool = False) -> Callable[[SetupContext], Prepared]:
    def prepare(ctx: SetupContext) -> Prepared:
        return Prepared({var: INVALID_KEY if invalid else ctx.valid_key}, f"{var} in the environment")

    return prepare


def _nothing(ctx: SetupContext) -> Prepared:
    return Prepared({}, "no credential anywhere")


def _login(ctx: SetupContext) -> Prepared:
    """Store the key the way the build itself would: its own `codex login`, else the auth.json format."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ctx.home), "CODEX_HOME": str(ctx.codex_home)}
    attempts = (
        (["codex", "login", "--with-api-key"], ctx.valid_key + "\n", "codex login --with-api-key"),
        (["codex", "login", "--api-key", ctx.valid_key], None, "codex login --api-key"),
    )
    for argv, stdin, label in attempts:
        try:
            proc = subprocess.run(
                ["timeout", "-k", "2", "20", *argv], input=(stdin or "").encode(), env=env,
                capture_output=True, timeout=30, check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0 and (ctx.codex_home / "auth.json").exists():
            return Prepared({}, label)
    path = ctx.codex_home / "auth.json"
    path.write_text(json.dumps({"OPENAI_API_KEY": ctx.valid_key}), encoding="utf-8")
    os.chmod(path, 0o600)
    return Prepared({}, "auth.json written ({\"OPENAI_API_KEY\": …})")


def _chatgpt_login(ctx: SetupContext) -> Prepared:
    """auth.json as ``codex login`` with a ChatGPT account leaves it: tokens, no API key (most users)."""
    tokens = chatgpt.make_tokens()
    ctx.accept(tokens["access_token"], chatgpt.ACCESS_TOKEN)
    for name in ("id_token", "refresh_token"):
        ctx.accept(tokens[name], "")  # hidden everywhere, though the fake never takes them as a bearer
    path = ctx.codex_home / "auth.json"
    path.write_text(json.dumps(chatgpt.auth_json(tokens)), encoding="utf-8")
    os.chmod(path, 0o600)
    # a refresh (after a 401, or when the tokens age) goes to the fake: 0.57+ through the override, older
    # builds to auth.openai.com; 0.104-0.110 fetch models from chatgpt.com: the container answers both
    # with the fake world's CA (harness.fakeapi.realhosts)
    for name in ("refresh_token", "access_token"):
        ctx.route_token(tokens[name])
    return Prepared({}, "auth.json of a ChatGPT login (tokens, last_refresh 5 min ago)",
                    {"CODEX_REFRESH_TOKEN_URL_OVERRIDE": f"{ctx.api_root}/oauth/token",
                     "SSL_CERT_FILE": str(realhosts.CA_FILE)})


CREDENTIAL_SETUPS: dict[str, CredentialSetup] = {s.name: s for s in (
    CredentialSetup("codex-api-key", "codex-key", _env_key("CODEX_API_KEY"), "explicit-api-key", "valid",
                    env_var="CODEX_API_KEY"),
    CredentialSetup("openai-api-key", "openai-key", _env_key("OPENAI_API_KEY"), "explicit-api-key", "valid",
                    env_var="OPENAI_API_KEY"),
    CredentialSetup("auth-json", "auth-json", _login, "auth-json", "valid"),
    CredentialSetup("none", "none", _nothing, "none", "none"),
    CredentialSetup("invalid-key", "invalid", _env_key("CODEX_API_KEY", invalid=True), "explicit-api-key",
                    "invalid", env_var="CODEX_API_KEY"),
    CredentialSetup("chatgpt-login", "chatgpt", _chatgpt_login, "auth-json", "valid",
                    bearer_kind=chatgpt.ACCESS_TOKEN),
)}
