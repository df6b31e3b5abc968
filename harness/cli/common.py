"""Small helpers shared by several subcommands."""

from __future__ import annotations

import os

from harness.errors import UserError


def key_from_env(name: str | None) -> str | None:
    """The explicit API key held in variable ``name``: keys are never command-line arguments (ps, logs)."""
    if name is None:
        return None
    value = os.environ.get(name, "")
    if not value.strip():
        raise UserError(f"--api-key-env {name}: that variable is unset or empty: export it or drop --api-key-env")
    return value
