"""Docker label names: the only way the project finds its images and containers again.

Everything the harness creates carries ``MANAGED``; ``KIND`` tells base and per-version images from run
containers. Nothing is ever found by name patterns, so a user's own containers are never touched.
"""

from __future__ import annotations

PREFIX = "codex-native-matrix"
MANAGED = f"{PREFIX}.managed"
KIND = f"{PREFIX}.kind"  # base | codex | run
VERSION = f"{PREFIX}.version"
RECIPE = f"{PREFIX}.recipe"
BASE = f"{PREFIX}.base"
TREE = f"{PREFIX}.tree"
RUN = f"{PREFIX}.run"  # a run container: the id of the run it belongs to
KEPT = f"{PREFIX}.kept"  # set when a run container is kept on purpose (--keep)


def label(key: str) -> str:
    """The full label name of ``key`` (``version`` → ``codex-native-matrix.version``)."""
    return f"{PREFIX}.{key}"
