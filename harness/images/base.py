"""The base image: Debian bookworm + python3 + pytest, pulled-and-built when a registry answers, else
bootstrapped offline. Both paths give the same content-addressed tag, so whichever ran first wins and
nothing is rebuilt later.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.binaries import cache_root, scratch
from harness.images import dockerbuild, recipes, rootfs
from harness.interrupts import deferred
from harness.progress import NullProgress, Progress


def image_exists(client: Any, ref: str) -> bool:
    import docker.errors

    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def ensure_base_image(client: Any, *, progress: Progress | None = None, cache_dir: Path | None = None) -> str:
    """Tag of the base image, building it if this recipe has never been built here."""
    progress = progress or NullProgress()
    base = recipes.base_recipe()
    tag = recipes.base_tag(base)
    if image_exists(client, tag):
        return tag
    work = cache_dir or cache_root()
    with scratch.locked(work, "image-base", waiting=progress.note, what="the base image"):
        if image_exists(client, tag):  # a concurrent run built it while we waited
            return tag
        labels = recipes.labels("base", base)
        upstream = recipes.from_image(base.directory / "Dockerfile")
        pulled, reason = _pull(client, upstream)
        if pulled:
            progress.start(f"build {tag} FROM {upstream}")
            mirror = os.environ.get("CODEX_MATRIX_DEBIAN_MIRROR", "").strip()
            image_id = dockerbuild.build(client, context=base.directory, tag=tag, labels=labels, progress=progress,
                              buildargs={"DEBIAN_MIRROR": mirror} if mirror else None)
            progress.done(image_id[:19])
            return tag
        progress.note(f"cannot pull {upstream} ({reason}); building {tag} offline with debootstrap")
        _bootstrap(client, base, tag, labels, work, progress)
    return tag


def _pull(client: Any, upstream: str) -> tuple[bool, str]:
    """True when the upstream image is local or pullable; the registry usually fails at once if absent."""
    if image_exists(client, upstream):
        return True, "present locally"
    repository, _, version = upstream.rpartition(":")
    try:
        client.images.pull(repository, tag=version)
    except Exception as exc:  # docker.errors.APIError etc.: any failure means "no registry here"
        reason = str(getattr(exc, "explanation", None) or exc)
        return False, reason.splitlines()[0][:160]
    return True, "pulled"


def _bootstrap(client: Any, base: recipes.Recipe, tag: str, labels: dict[str, str], work: Path,
               progress: Progress) -> None:
    conf = recipes.read_conf(base.directory)
    target = rootfs.make_rootfs_dir(work)
    try:
        rootfs.bootstrap(target, suite=conf.get("SUITE", "bookworm"), variant=conf.get("VARIANT", "minbase"),
                         packages=recipes.read_packages(base.directory), mirror=rootfs.debian_mirror(),
                         progress=progress)
        rootfs.import_rootfs(client, target, tag=tag, labels=labels, progress=progress)
    finally:
        # SIGTERM is Ctrl-C (harness.cli.main): either lands here, and a second one must not cut the
        # removal of a ~90 MB rootfs short, so signals wait until it is gone
        with deferred():
            rootfs.remove_rootfs(target)
