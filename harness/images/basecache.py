"""The base image's root filesystem kept in the build cache, so a fresh Docker daemon imports it in seconds.

A CI runner gets a new, empty Docker daemon on every job but can restore a cache directory
(``CODEX_MATRIX_CACHE``). Bootstrapping the base again costs about 45 s of debootstrap (and a Debian
mirror); ``docker import`` of the same root filesystem from the cache takes seconds and needs no network.

Layout, content-addressed by the base recipe's digest (which names the image tag too)::

    <cache>/base-rootfs/<recipe digest>/rootfs.tar    the root filesystem, as `docker import` takes it
    <cache>/base-rootfs/<recipe digest>/rootfs.json   {"schema", "recipe", "sha256", "size", "source", "created"}

An entry appears only by the atomic rename of a complete scratch dir, so a reader sees all of it or
nothing. Before an import the tarball's size and sha256 are checked against ``rootfs.json``; a damaged
entry is removed and the base is built again (and stored again). Written when the base is bootstrapped,
or exported from the base image a daemon already has when the cache lacks it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import labels as project_labels
from harness.binaries import scratch
from harness.errors import UserError

SCHEMA = 1
DIRNAME = "base-rootfs"
TARBALL = "rootfs.tar"
METADATA = "rootfs.json"
TMP_PREFIX = ".rootfs-tmp-"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedRootfs:
    tarball: Path
    sha256: str
    size: int
    source: str  # debootstrap | export


def entry_dir(cache: Path, recipe_digest: str) -> Path:
    return cache / DIRNAME / recipe_digest


def lookup(cache: Path, recipe_digest: str) -> CachedRootfs | None:
    """The entry as its metadata describes it (size checked, not the hash), or None when there is none."""
    entry = entry_dir(cache, recipe_digest)
    try:
        meta = json.loads((entry / METADATA).read_text(encoding="utf-8"))
        found = CachedRootfs(entry / TARBALL, str(meta["sha256"]), int(meta["size"]), str(meta.get("source", "?")))
        if meta.get("schema") != SCHEMA or meta.get("recipe") != recipe_digest:
            return None
        if found.tarball.stat().st_size != found.size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found


def verified(cache: Path, recipe_digest: str) -> CachedRootfs | None:
    """The entry when its tarball still has the recorded size and sha256; a damaged entry is removed."""
    entry = entry_dir(cache, recipe_digest)
    found = lookup(cache, recipe_digest)
    if found is not None and file_sha256(found.tarball) == found.sha256:
        return found
    if entry.exists():
        discard(cache, recipe_digest)
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def discard(cache: Path, recipe_digest: str) -> None:
    """Remove an entry (renamed aside first, so a reader never sees half of it)."""
    entry = entry_dir(cache, recipe_digest)
    if not entry.exists():
        return
    aside = scratch.make(cache, TMP_PREFIX)
    with contextlib.suppress(OSError):
        entry.rename(aside / "gone")
    scratch.discard(aside)


def store(cache: Path, recipe_digest: str, chunks: Iterable[bytes], *, source: str) -> CachedRootfs:
    """Write a root filesystem tarball from ``chunks`` as the entry for ``recipe_digest`` (replacing any)."""
    scratch.sweep(cache, TMP_PREFIX)
    work = scratch.make(cache, TMP_PREFIX)
    try:
        digest, size = hashlib.sha256(), 0
        with (work / TARBALL).open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        if size == 0:
            raise UserError("the base root filesystem came out empty: check `docker info` and free disk space, rerun")
        sha256 = digest.hexdigest()
        meta = {"schema": SCHEMA, "recipe": recipe_digest, "sha256": sha256, "size": size,
                "source": source, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (work / METADATA).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        discard(cache, recipe_digest)
        entry = entry_dir(cache, recipe_digest)
        entry.parent.mkdir(parents=True, exist_ok=True)
        os.rename(work, entry)
    except BaseException:
        scratch.discard(work)
        raise
    return CachedRootfs(entry / TARBALL, sha256, size, source)


def tar_chunks(rootfs: Path) -> Iterator[bytes]:
    """``tar --numeric-owner -C rootfs -c .``, streamed; raises UserError when tar fails."""
    with tempfile.TemporaryFile() as err:
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        assert tar.stdout is not None
        try:
            while data := tar.stdout.read(_CHUNK):
                yield data
        except BaseException:  # the consumer gave up (GeneratorExit) or failed: stop tar too
            tar.kill()
            tar.wait()
            raise
        finally:
            tar.stdout.close()
        if tar.wait() != 0:
            err.seek(0)
            reason = err.read().decode(errors="replace").strip()[:200]
            raise UserError(f"tar of the base rootfs failed ({reason}): check free disk space, rerun")


def export_chunks(client: Any, image: str) -> Iterator[bytes]:
    """The root filesystem of ``image``, flattened (``docker export`` of a container created, never started).

    It also holds the stubs Docker puts into every container (``/.dockerenv``, empty ``/etc/hosts``,
    ``hostname``, ``resolv.conf``), which every container of the imported image gets anyway.
    """
    container = client.containers.create(image, command=["true"], network_mode="none",
                                         labels={project_labels.MANAGED: "true", project_labels.KIND: "export"})
    try:
        yield from container.export(chunk_size=_CHUNK)
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while data := fh.read(_CHUNK):
            yield data
