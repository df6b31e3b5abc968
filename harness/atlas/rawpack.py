"""A recorded release's raw output, packed: ``raw/<version>/`` → ``raw/<version>.tar.gz``.

Why: the default cell set leaves ~2,600 small files per release (every lane run's argv, env, journal,
transcript, stderr), ~7 MB on disk and ~1 GB over every release, two thirds of the atlas's disk budget
for evidence nobody reads once its release is in ``atlas.jsonl``. Packed it is a few hundred KB and
still there for whoever wants to see why a cell failed (``tar xzf raw/0.131.0.tar.gz``). A release
with a cell that did not meet its expectation keeps its directory as it is: that is the evidence
someone will open next.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

SUFFIX = ".tar.gz"


def pack(raw_dir: Path) -> Path | None:
    """Pack ``raw_dir`` into ``<raw_dir>.tar.gz`` beside it and remove the directory; None when there is
    nothing to pack. The archive is written under a temporary name and renamed, so an interrupted pack
    leaves the directory whole and no half archive."""
    if not raw_dir.is_dir():
        return None
    archive = raw_dir.with_name(raw_dir.name + SUFFIX)
    partial = raw_dir.with_name(f".{raw_dir.name}{SUFFIX}.part")
    try:
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(raw_dir, arcname=raw_dir.name)
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)
    shutil.rmtree(raw_dir, ignore_errors=True)
    return archive
