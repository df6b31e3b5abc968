"""The base rootfs in the build cache: content-addressed entries, checked by size and sha256 before use."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UserError
from harness.images import base, basecache, recipes

DIGEST = "ab" * 32
PAYLOAD = [b"root filesystem tarball " * 1000, b"second chunk"]


def stored(cache: Path) -> basecache.CachedRootfs:
    return basecache.store(cache, DIGEST, iter(PAYLOAD), source="debootstrap")


def test_store_then_verified(tmp_path: Path) -> None:
    entry = stored(tmp_path)
    assert entry.tarball == tmp_path / "base-rootfs" / DIGEST / "rootfs.tar"
    assert entry.tarball.read_bytes() == b"".join(PAYLOAD)
    assert entry.sha256 == hashlib.sha256(b"".join(PAYLOAD)).hexdigest()
    assert basecache.verified(tmp_path, DIGEST) == entry
    meta = json.loads((entry.tarball.parent / "rootfs.json").read_text())
    assert meta["recipe"] == DIGEST and meta["source"] == "debootstrap" and meta["size"] == entry.size
    assert [p.name for p in tmp_path.iterdir()] == ["base-rootfs"]  # no scratch left behind


def test_a_changed_byte_is_caught_and_the_entry_removed(tmp_path: Path) -> None:
    entry = stored(tmp_path)
    data = bytearray(entry.tarball.read_bytes())
    data[100] ^= 0xFF  # same size: only the hash can tell
    entry.tarball.write_bytes(bytes(data))
    assert basecache.lookup(tmp_path, DIGEST) is not None
    assert basecache.verified(tmp_path, DIGEST) is None
    assert not (tmp_path / "base-rootfs" / DIGEST).exists()


def test_a_truncated_tarball_or_foreign_metadata_is_no_entry(tmp_path: Path) -> None:
    entry = stored(tmp_path)
    with entry.tarball.open("r+b") as fh:
        fh.truncate(10)
    assert basecache.lookup(tmp_path, DIGEST) is None
    entry = stored(tmp_path)  # stored again: replaces the damaged one
    meta_path = entry.tarball.parent / "rootfs.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "recipe": "cd" * 32}))
    assert basecache.lookup(tmp_path, DIGEST) is None
    assert basecache.lookup(tmp_path, "ef" * 32) is None


def test_an_empty_rootfs_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="empty"):
        basecache.store(tmp_path, DIGEST, iter([]), source="export")
    assert basecache.lookup(tmp_path, DIGEST) is None
    assert not any(p.name.startswith(basecache.TMP_PREFIX) for p in tmp_path.iterdir())


def test_tar_chunks_is_a_tarball_of_the_tree(tmp_path: Path) -> None:
    tree = tmp_path / "rootfs"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "os-release").write_text("ID=debian\n")
    (tree / "bin").symlink_to("usr/bin")
    with tarfile.open(fileobj=io.BytesIO(b"".join(basecache.tar_chunks(tree)))) as tar:
        names = {m.name: m for m in tar.getmembers()}
    assert names["./etc/os-release"].isfile() and names["./bin"].issym()
    with pytest.raises(UserError, match="tar of the base rootfs failed"):
        b"".join(basecache.tar_chunks(tmp_path / "missing"))


class FakeImages:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, ref: str) -> Any:
        import docker.errors

        if ref not in self.present:
            raise docker.errors.ImageNotFound(ref)
        return type("Image", (), {"id": "sha256:" + "0" * 64})()

    def pull(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a cached rootfs must be imported, never pulled or bootstrapped")


class FakeClient:
    """Only what ensure_base_image touches when the cache holds the rootfs: no daemon needed."""

    def __init__(self) -> None:
        self.images = FakeImages(set())
        self.imported: list[bytes] = []
        self.api = self

    def import_image_from_data(self, data: Any, repository: str, tag: str, changes: list[str]) -> None:
        self.imported.append(b"".join(data))
        self.images.present.add(f"{repository}:{tag}")


def test_a_daemon_without_the_base_imports_the_cached_rootfs(tmp_path: Path) -> None:
    digest = recipes.base_recipe().digest
    basecache.store(tmp_path, digest, iter(PAYLOAD), source="debootstrap")
    client = FakeClient()
    tag = base.ensure_base_image(client, cache_dir=tmp_path)
    assert tag == recipes.base_tag(recipes.base_recipe())
    assert client.imported == [b"".join(PAYLOAD)]


def test_a_damaged_cached_rootfs_is_not_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = recipes.base_recipe().digest
    entry = basecache.store(tmp_path, digest, iter(PAYLOAD), source="debootstrap")
    entry.tarball.write_bytes(entry.tarball.read_bytes()[::-1])  # same size, other content
    rebuilt: list[str] = []
    monkeypatch.setattr(base, "_pull", lambda client, upstream: (False, "no registry"))
    monkeypatch.setattr(base, "_bootstrap", lambda client, recipe, tag, *a: rebuilt.append(tag))
    client = FakeClient()
    base.ensure_base_image(client, cache_dir=tmp_path)
    assert client.imported == [] and rebuilt == [recipes.base_tag(recipes.base_recipe())]
