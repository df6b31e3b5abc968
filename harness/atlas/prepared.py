"""A release on its way through the atlas: its record so far, what the atlas put on disk for it (so only
that is removed), how long its fetch's steps took, and how a failed phase is written into its record.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atlas.releases import Release
from harness.binaries import CachedBuild
from harness.errors import UserError
from harness.progress import NullProgress
from harness.run.plan import MountedBuild


class PhaseClock(NullProgress):
    """A ``Progress`` receiver that times the steps of a fetch (``download …``, ``unpack …``); what it
    does not time it discards, as NullProgress does."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.totals: dict[str, int] = {}
        self._phase = ""
        self._t0 = 0.0

    def start(self, task: str, total: int | None = None) -> None:
        self._phase = task.split(" ", 1)[0]
        self._t0 = time.monotonic()
        if total is not None:
            self.totals[self._phase] = total

    def done(self, message: str = "") -> None:
        if self._phase:
            self.seconds[self._phase] = self.seconds.get(self._phase, 0.0) + time.monotonic() - self._t0
            self._phase = ""


@dataclass
class Prepared:
    """A release on its way: its record so far and what the atlas put on disk for it."""

    release: Release
    record: dict[str, Any]
    build: CachedBuild | None = None
    image: str | None = None  # what its container runs: its own image, or the base with ``mounted``
    mounted: MountedBuild | None = None
    fetched: bool = False  # the atlas downloaded this tree: it may remove it
    built: bool = False  # the atlas built this image: it may remove it
    cleaned: bool = False

    @property
    def failed(self) -> bool:
        return self.record["error"] is not None

    @property
    def disk_bytes(self) -> int:
        """What this release holds on disk while it waits and runs (its tree; 0 once the tree is gone)."""
        return int(self.record["sizes"]["tree_bytes"] or 0) if self.fetched else 0


def fail_record(record: dict[str, Any], phase: str, exc: BaseException, status: str = "error") -> None:
    """Write a failed phase into a release's record: a user error as it reads, anything else with its type."""
    message = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    record["status"] = status
    record["error"] = {"phase": phase, "message": " ".join(message.split())[:600]}


def tree_files(build: CachedBuild) -> dict[str, int]:
    """relpath → size of every file in the build's tree, from the cache metadata (no re-scan)."""
    try:
        meta = json.loads((build.root.parent / "build.json").read_text(encoding="utf-8"))
        return {rel: int(info.get("size", 0)) for rel, info in meta["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        out: dict[str, int] = {}
        for dirpath, _dirs, names in os.walk(build.root):
            for name in names:
                path = Path(dirpath, name)
                out[path.relative_to(build.root).as_posix()] = path.lstat().st_size
        return out
