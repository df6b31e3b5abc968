"""Small helpers shared by several subcommands."""

from __future__ import annotations

import os
import sys
from typing import Any

from harness.errors import UserError


def key_from_env(name: str | None) -> str | None:
    """The explicit API key held in variable ``name``: keys are never command-line arguments (ps, logs)."""
    if name is None:
        return None
    value = os.environ.get(name, "")
    if not value.strip():
        raise UserError(f"--api-key-env {name}: that variable is unset or empty: export it or drop --api-key-env")
    return value


def daemon() -> Any:
    """A Docker client for a subcommand, after removing the containers of runs that are gone.

    Every command that talks to the daemon comes through here, so containers orphaned by a harness
    killed with SIGKILL go as soon as anything runs next (and say so in one line), not when someone
    remembers ``prune``.
    """
    from harness.docker_env import docker_client
    from harness.orphans import reap

    client = docker_client()
    line = reap(client)
    if line:
        print(f"codex-matrix: {line}", file=sys.stderr, flush=True)
    return client
