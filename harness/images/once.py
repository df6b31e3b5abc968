"""An image built at most once per tag, whoever else builds it at the same time.

The per-version images and the Node lane images are built the same way, and the way is the delicate
part: look for the tag; else take the cache's lock for that image (another run sharing the cache and the
daemon may be building it: wait, saying for whom); look again once the lock is held; sweep the build
contexts dead runs left; fill a fresh context directory, build, and remove the context whatever happens.
What goes into the context and the build arguments is each image's own business (``build``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.binaries import scratch
from harness.images.base import image_exists
from harness.progress import Progress


def build_once(client: Any, tag: str, work: Path, *, lock: str, what: str, context_prefix: str,
               progress: Progress, build: Callable[[Path], None]) -> str:
    """``tag``, built by ``build(context_dir)`` under the lock ``lock`` of ``work`` only if no image has it."""
    if image_exists(client, tag):
        return tag
    with scratch.locked(work, lock, waiting=progress.note, what=what):
        if image_exists(client, tag):  # built by another run while we waited
            return tag
        scratch.sweep(work, context_prefix)
        context = scratch.make(work, context_prefix)
        try:
            build(context)
        finally:
            scratch.discard(context)
    return tag
