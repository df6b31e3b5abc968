"""tox environments derived from matrix.yaml, so tox.ini and the matrix cannot drift apart.

Version factors carry a ``codex`` prefix because tox reads a bare ``2.1`` factor as a Python version.
"""

from __future__ import annotations

from collections.abc import Sequence


def tox_env(version: str) -> str:
    return f"codex{version}"


def tox_envs(versions: Sequence[str]) -> list[str]:
    return [tox_env(v) for v in versions]
