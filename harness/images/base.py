"""The base image: Debian bookworm + python3 + pytest, pulled-and-built when a registry answers, else
bootstrapped offline. Both paths give the same content-addressed tag, so whichever ran first wins and
nothing is rebuilt later.

Its root filesystem is kept in the build cache (:mod:`harness.images.basecache`): written when the base
is bootstrapped, or exported from the image when a daemon has it and the cache does not. A daemon
without the image (a CI runner's fresh one, with the cache restored) imports it from there in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.binaries import cache_dir_of, scratch
from harness.images import basecache, dockerbuild, recipes, rootfs
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
    """Tag of the base image: present, else imported from the build cache, else built (and cached)."""
    progress = progress or NullProgress()
    base = recipes.base_recipe()
    tag = recipes.base_tag(base)
    work = cache_dir_of(cache_dir)
    if image_exists(client, tag):
        if basecache.lookup(work, base.digest) is None:
            _export_to_cache(client, tag, base, work, progress)
        return tag
    with scratch.locked(work, "image-base", waiting=progress.note, what="the base image"):
        if image_exists(client, tag):  # a concurrent run built it while we waited
            return tag
        labels = recipes.labels("base", base)
        cached = basecache.verified(work, base.digest)
        if cached is not None:
            rootfs.import_tarball(client, basecache.file_chunks(cached.tarball), tag=tag, labels=labels,
                                  progress=progress, total=cached.size)
            return tag
        upstream = recipes.from_image(base.directory / "Dockerfile")
        pulled, reason = _pull(client, upstream)
        if pulled:
            progress.start(f"build {tag} FROM {upstream}")
            mirror = os.environ.get("CODEX_MATRIX_DEBIAN_MIRROR", "").strip()
            image_id = dockerbuild.build(client, context=base.directory, tag=tag, labels=labels, progress=progress,
                              buildargs={"DEBIAN_MIRROR": mirror} if mirror else None)
            progress.done(image_id[:19])
        else:
            progress.note(f"cannot pull {upstream} ({reason}); building {tag} offline with debootstrap")
            _bootstrap(client, base, tag, labels, work, progress)
            return tag
    _export_to_cache(client, tag, base, work, progress)
    return tag


def _export_to_cache(client: Any, tag: str, base: recipes.Recipe, work: Path, progress: Progress) -> None:
    """Keep the root filesystem of the existing base image in the build cache (once per recipe)."""
    with scratch.locked(work, "image-base", waiting=progress.note, what="the base image"):
        if basecache.lookup(work, base.digest) is not None:
            return
        progress.start(f"keep the root filesystem of {tag} in the build cache")
        stored = basecache.store(work, base.digest, basecache.export_chunks(client, tag), source="export")
        progress.done(f"{stored.size / 1e6:.0f} MB")


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
    """debootstrap, keep the tree's tarball in the build cache, and import the image from it."""
    conf = recipes.read_conf(base.directory)
    target = rootfs.make_rootfs_dir(work)
    try:
        rootfs.bootstrap(target, suite=conf.get("SUITE", "bookworm"), variant=conf.get("VARIANT", "minbase"),
                         packages=recipes.read_packages(base.directory), mirror=rootfs.debian_mirror(),
                         progress=progress)
        progress.start("keep the base root filesystem in the build cache")
        stored = basecache.store(work, base.digest, basecache.tar_chunks(target), source="debootstrap")
        progress.done(f"{stored.size / 1e6:.0f} MB")
    finally:
        # SIGTERM is Ctrl-C (harness.cli.main): either lands here, and a second one must not cut the
        # removal of a ~90 MB rootfs short, so signals wait until it is gone
        with deferred():
            rootfs.remove_rootfs(target)
    rootfs.import_tarball(client, basecache.file_chunks(stored.tarball), tag=tag, labels=labels, progress=progress,
                          total=stored.size)
