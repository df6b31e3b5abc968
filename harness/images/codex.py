"""Per-version images: base image + one cached codex-cli tree under /opt/codex/<version>/.

The build context is made of hard links into the build cache (same filesystem, scratch dir inside the
cache), so a 400 MB tree is not copied once more before docker-py tars it. Falls back to copying when
linking is impossible (different filesystem, protected hardlinks).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import labels
from harness.binaries import CachedBuild, scratch
from harness.images import dockerbuild, recipes
from harness.images.base import ensure_base_image
from harness.images.once import build_once
from harness.progress import NullProgress, Progress

CONTEXT_PREFIX = ".ctx-"


def version_tag(build: CachedBuild, base_tag: str) -> str:
    return recipes.codex_tag(build.version, recipes.codex_recipe(), base_tag, build.tree_sha256)


def version_labels(build: CachedBuild, base_tag: str) -> dict[str, str]:
    return recipes.labels("codex", recipes.codex_recipe(), version=build.version, base=base_tag,
                          tree=build.tree_sha256[:12])


def build_context(build: CachedBuild, recipe_dir: Path, dest: Path) -> Path:
    """Fill ``dest`` with the recipe files and ``tree/`` (hard links to the cached tree when possible)."""
    for path in recipe_dir.iterdir():
        if path.is_file():
            shutil.copy2(path, dest / path.name)
    shutil.copytree(build.root, dest / "tree", symlinks=True, copy_function=_link_or_copy)
    return dest


def fold_labels(context: Path, labels: dict[str, str]) -> None:
    """Append the image labels to the context's Dockerfile as ONE ``LABEL`` instruction.

    docker build's ``labels`` parameter adds one instruction per label, and the classic builder runs a
    container and commits a layer for each (about 0.4 s apiece on a fresh daemon, six of them); one
    instruction gives the image the same labels. The recipe file itself is left as it is.
    """
    pairs = " ".join(f'"{key}"="{value}"' for key, value in sorted(labels.items()))
    with (context / "Dockerfile").open("a", encoding="utf-8") as handle:
        handle.write(f"\n# labels (harness/images/codex.py)\nLABEL {pairs}\n")


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def ensure_version_image(client: Any, build: CachedBuild, *, progress: Progress | None = None,
                         base_tag: str | None = None, context_sent: Callable[[], None] | None = None) -> str:
    """Tag of the image for ``build``; built only when no image with that tag exists locally.

    ``context_sent`` runs once the daemon holds the build context, after the context's hard links into
    the cache are gone: from then on removing the cached tree frees its space (the atlas does).
    """
    progress = progress or NullProgress()
    base_tag = base_tag or ensure_base_image(client, progress=progress)
    tag = version_tag(build, base_tag)

    def make(context: Path) -> None:
        build_context(build, recipes.codex_recipe().directory, context)
        fold_labels(context, version_labels(build, base_tag))
        progress.start(f"build {tag}")
        image_id = dockerbuild.build(
            client, context=context, tag=tag, labels={}, progress=progress,
            buildargs={"BASE": base_tag, "VERSION": build.version, "BINARY_RELPATH": build.binary_relpath,
                       "VERSION_LINE": build.version_line or f"codex-cli {build.version}"},
            network_mode="none", context_sent=lambda: _sent(context, context_sent),
        )
        progress.done(image_id[:19])

    cache = build.root.parent.parent  # <cache>/<version>/tree -> <cache>: same filesystem as the tree
    return build_once(client, tag, cache, lock=f"image-{build.version}", what=f"the image of {build.version}",
                      context_prefix=CONTEXT_PREFIX, progress=progress, build=make)


def _sent(context: Path, then: Callable[[], None] | None) -> None:
    scratch.discard(context)
    if then is not None:
        then()


def find_by_labels(client: Any, version: str, base_tag: str) -> str | None:
    """An existing image of ``version`` for the current recipe and base, found without the build cache.

    npm versions are immutable, so (version, recipe, base) names the same content as the tree digest;
    this lets a run with a wiped build cache but a warm Docker image store skip the download.
    """
    wanted = [f"{labels.MANAGED}=true", f"{labels.KIND}=codex", f"{labels.VERSION}={version}",
              f"{labels.RECIPE}={recipes.codex_recipe().short}", f"{labels.BASE}={base_tag}"]
    for image in client.images.list(filters={"label": wanted}):
        for tag in image.tags:
            if tag.startswith(f"{recipes.CODEX_REPO}:{version}-"):
                return str(tag)
    return None
