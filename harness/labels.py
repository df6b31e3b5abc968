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
# The process that started a run container (harness.owner.Owner): a container whose owner is gone on
# this host was orphaned (SIGKILL, OOM killer, a dead daemon) and any later command removes it.
OWNER_HOST = f"{PREFIX}.owner.host"
OWNER_PID = f"{PREFIX}.owner.pid"
OWNER_START = f"{PREFIX}.owner.start"  # the process's start time in clock ticks since boot
OWNER_INSTANCE = f"{PREFIX}.owner.instance"  # kernel boot id / pid namespace the pid belongs to
OWNER_STARTED = f"{PREFIX}.owner.started"  # the same start time as UTC ISO 8601, for people
DEADLINE = f"{PREFIX}.deadline"  # UTC ISO 8601: the container ends by itself then, unless kept
# A run container kept on purpose (--keep) carries this name suffix. Not a label: Docker cannot change
# labels after creation, and whether a container is kept is only known once its suite has ended. The
# rename (and a marker file inside it that extends its lifetime) happens then; only such containers
# are ever called "kept for inspection".
KEPT_SUFFIX = "-kept"


def label(key: str) -> str:
    """The full label name of ``key`` (``version`` → ``codex-native-matrix.version``)."""
    return f"{PREFIX}.{key}"
