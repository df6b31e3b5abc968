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
from dataclasses import dataclass
from pathlib import Path

#: A key the fake API never accepts.
INVALID_KEY = "sk-matrix-invalid-0000000000000000"


@dataclass(frozen=True)
class SetupContext:
    """What a setup may use to prepare one run: the run's homes and the key the fake API accepts."""

    home: Path
    codex_home: Path
    valid_key: str


@dataclass(frozen=True)
class Prepared:
    """The environment variables a setup adds, and how the credential was stored (for the report)."""

    env: dict[str, str]
    how: str


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


CREDENTIAL_SETUPS: dict[str, CredentialSetup] = {s.name: s for s in (
    CredentialSetup("codex-api-key", "codex-key", _env_key("CODEX_API_KEY"), "explicit-api-key", "valid",
                    env_var="CODEX_API_KEY"),
    CredentialSetup("openai-api-key", "openai-key", _env_key("OPENAI_API_KEY"), "explicit-api-key", "valid",
                    env_var="OPENAI_API_KEY"),
    CredentialSetup("auth-json", "auth-json", _login, "auth-json", "valid"),
    CredentialSetup("none", "none", _nothing, "none", "none"),
    CredentialSetup("invalid-key", "invalid", _env_key("CODEX_API_KEY", invalid=True), "explicit-api-key",
                    "invalid", env_var="CODEX_API_KEY"),
)}
