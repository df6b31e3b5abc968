"""The one relaxation of a run container's security: Docker's default seccomp profile plus what codex's
own sandbox needs (``containers/seccomp/codex-additions.json``, each rule with the reason it exists).

The base is the Docker engine's own default profile, read from Debian's
``golang-github-docker-docker-dev`` package (the source of the ``docker.io`` engine this project
installs; ``bash .ci/bootstrap`` installs it), or from ``CODEX_MATRIX_SECCOMP_BASE``. Nothing of it is
kept in this repository. Only cells that run codex's sandbox (``read-only``, ``workspace-write``) need
the merged profile; ``danger-full-access`` cells keep Docker's default.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from harness.assets import containers_dir
from harness.errors import UserError
from harness.suite.sandboxes import SANDBOXED

DEBIAN_DEFAULT = Path("/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json")
BASE_ENV = "CODEX_MATRIX_SECCOMP_BASE"


def base_profile_path() -> Path:
    override = os.environ.get(BASE_ENV, "").strip()
    path = Path(override) if override else DEBIAN_DEFAULT
    if not path.is_file():
        raise UserError(
            f"Docker's default seccomp profile is not at {path}: install Debian's golang-github-docker-docker-dev "
            f"(bash .ci/bootstrap does) or set {BASE_ENV} to a copy of it; only read-only and workspace-write "
            "cells need it")
    return path


def merge(base: dict[str, Any], additions: dict[str, Any]) -> dict[str, Any]:
    """Docker's profile with our rules appended (an allow rule only ever widens what is allowed)."""
    merged = dict(base)
    merged["syscalls"] = [*base.get("syscalls", []), *additions["syscalls"]]
    return merged


@cache
def codex_sandbox_profile() -> str:
    """The merged profile as JSON text (docker-py's ``security_opt`` takes the text, not a path)."""
    try:
        base = json.loads(base_profile_path().read_text(encoding="utf-8"))
        additions = json.loads((containers_dir() / "seccomp" / "codex-additions.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read a seccomp profile ({exc}): reinstall, or set {BASE_ENV}") from None
    return json.dumps(merge(base, additions), separators=(",", ":"))


def security_opt(sandboxes: set[str]) -> list[str]:
    """``security_opt`` for a container whose cells run in ``sandboxes``: the profile only when needed."""
    return [f"seccomp={codex_sandbox_profile()}"] if sandboxes & SANDBOXED else []
