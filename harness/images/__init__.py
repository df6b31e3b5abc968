"""Docker images of the matrix: one base image, one image per codex-cli version, all content-addressed.

Public API:

* ``ensure_base_image(client, *, progress=None) -> str``
* ``ensure_version_image(client, build, *, progress=None) -> str``
* ``ensure_images(client, versions, *, progress=None, cache_dir=None) -> dict[str, str]``
* ``prune(client, *, keep=(), all_=False) -> list[str]``

Images are never pulled implicitly except the pinned upstream of the base recipe, and only when a
registry answers; otherwise the base is bootstrapped offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.binaries import cached, fetch
from harness.binaries.cache import recorded_tree_digest
from harness.images import recipes
from harness.images.base import ensure_base_image, image_exists
from harness.images.codex import ensure_version_image, find_by_labels
from harness.images.prune import prune
from harness.progress import NullProgress, Progress

__all__ = ["ensure_base_image", "ensure_images", "ensure_version_image", "prune"]


def ensure_images(client: Any, versions: Sequence[str], *, progress: Progress | None = None,
                  cache_dir: Path | None = None) -> dict[str, str]:
    """version -> image tag for every version, fetching builds and building images only as needed.

    When the image of a cached tree exists it is used without re-checking the tree; when the build cache
    lacks a version but an image of it for the current recipes exists, the image is reused without
    downloading (see ``find_by_labels``).
    """
    if not versions:  # an empty shard (more shards than builds) needs no image at all
        return {}
    progress = progress or NullProgress()
    base_tag = ensure_base_image(client, progress=progress, cache_dir=cache_dir)
    tags: dict[str, str] = {}
    codex = recipes.codex_recipe()
    for version in versions:
        tree = recorded_tree_digest(version, cache_dir=cache_dir)
        if tree is not None and image_exists(client, tag := recipes.codex_tag(version, codex, base_tag, tree)):
            tags[version] = tag  # built from this tree before: nothing of the tree is used, nothing to check
            continue
        build = cached(version, cache_dir=cache_dir)
        if build is None:
            existing = find_by_labels(client, version, base_tag)
            if existing:
                tags[version] = existing
                continue
            build = fetch(version, cache_dir=cache_dir, progress=progress)
        tags[version] = ensure_version_image(client, build, progress=progress, base_tag=base_tag)
    return tags
