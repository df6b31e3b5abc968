"""Image recipes, tags, build contexts and offline-bootstrap helpers, without a Docker daemon."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from harness.binaries import CachedBuild
from harness.errors import UserError
from harness.images import codex, recipes, rootfs
from harness.images.prune import _stale, is_idle_run
from harness.progress import NullProgress

REPO_CONTAINERS = Path(__file__).resolve().parents[2] / "containers"


@pytest.fixture
def containers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of containers/ that the test may edit, selected via CODEX_MATRIX_CONTAINERS."""
    copy = tmp_path / "containers"
    shutil.copytree(REPO_CONTAINERS, copy)
    monkeypatch.setenv("CODEX_MATRIX_CONTAINERS", str(copy))
    return copy


def fake_build(root: Path, version: str = "0.44.0", tree_sha: str = "a" * 64) -> CachedBuild:
    tree = root / version / "tree"
    (tree / "codex").mkdir(parents=True)
    (tree / "codex" / "codex").write_bytes(b"#!/bin/sh\necho codex-cli 0.44.0\n")
    (tree / "codex" / "codex").chmod(0o755)
    (tree / "path").mkdir()
    (tree / "path" / "rg").write_bytes(b"rg")
    (tree / "codex" / "alias").symlink_to("codex")
    binary = tree / "codex" / "codex"
    return CachedBuild(version=version, root=tree, binary=binary, binary_relpath="codex/codex",
                       sha256=hashlib.sha256(binary.read_bytes()).hexdigest(), tree_sha256=tree_sha,
                       integrity="sha512-x", version_line=f"codex-cli {version}")


def test_repository_recipes_are_complete() -> None:
    base = REPO_CONTAINERS / "base"
    assert recipes.read_packages(base) == ["python3", "python3-pytest", "procps"]
    assert recipes.read_conf(base) == {"SUITE": "bookworm", "VARIANT": "minbase"}
    assert recipes.from_image(base / "Dockerfile").startswith("debian:bookworm-")
    dockerfile = (REPO_CONTAINERS / "codex" / "Dockerfile").read_text()
    for arg in ("ARG BASE", "ARG VERSION", "ARG BINARY_RELPATH", "COPY tree/ /opt/codex/${VERSION}/",
                "/usr/local/bin/codex"):
        assert arg in dockerfile


def test_base_tag_is_stable_and_follows_recipe_files(containers: Path) -> None:
    first = recipes.base_recipe()
    assert recipes.base_recipe() == first
    tag = recipes.base_tag(first)
    assert tag == f"codex-native-matrix/base:{first.digest[:12]}"
    assert len(tag.rpartition(":")[2]) == 12
    (containers / "base" / "README.md").write_text("docs do not change the image\n")
    assert recipes.base_recipe() == first
    with (containers / "base" / "packages.txt").open("a") as handle:
        handle.write("less\n")
    changed = recipes.base_recipe()
    assert recipes.base_tag(changed) != tag
    assert recipes.read_packages(containers / "base")[-1] == "less"


def test_version_tag_changes_with_recipe_base_and_tree(containers: Path, tmp_path: Path) -> None:
    build = fake_build(tmp_path / "cache")
    base_tag = "codex-native-matrix/base:0123456789ab"
    tag = codex.version_tag(build, base_tag)
    assert tag.startswith("codex-native-matrix/codex:0.44.0-")
    assert len(tag.rpartition("-")[2]) == 12
    assert codex.version_tag(build, base_tag) == tag
    assert codex.version_tag(build, "codex-native-matrix/base:ba9876543210") != tag
    other_tree = CachedBuild(**{**build.__dict__, "tree_sha256": "b" * 64})
    assert codex.version_tag(other_tree, base_tag) != tag
    with (containers / "codex" / "Dockerfile").open("a") as handle:
        handle.write("# changed\n")
    assert codex.version_tag(build, base_tag) != tag


def test_labels_identify_project_kind_and_recipe(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "cache")
    labels = codex.version_labels(build, "codex-native-matrix/base:0123456789ab")
    assert labels == {
        "codex-native-matrix.managed": "true",
        "codex-native-matrix.kind": "codex",
        "codex-native-matrix.recipe": recipes.codex_recipe().short,
        "codex-native-matrix.version": "0.44.0",
        "codex-native-matrix.base": "codex-native-matrix/base:0123456789ab",
        "codex-native-matrix.tree": "a" * 12,
    }


def test_build_context_hardlinks_the_cached_tree(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "cache")
    context = tmp_path / "cache" / ".ctx-test"
    context.mkdir()
    codex.build_context(build, REPO_CONTAINERS / "codex", context)
    assert (context / "Dockerfile").read_text() == (REPO_CONTAINERS / "codex" / "Dockerfile").read_text()
    linked = context / "tree" / "codex" / "codex"
    assert linked.stat().st_ino == build.binary.stat().st_ino  # hard link, no 400 MB copy
    assert os.access(linked, os.X_OK)
    assert (context / "tree" / "path" / "rg").read_bytes() == b"rg"
    assert os.readlink(context / "tree" / "codex" / "alias") == "codex"


def test_build_context_copies_when_linking_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = fake_build(tmp_path / "cache")

    def no_links(src: str, dst: str) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    context = tmp_path / "elsewhere"
    context.mkdir()
    codex.build_context(build, REPO_CONTAINERS / "codex", context)
    copied = context / "tree" / "codex" / "codex"
    assert copied.read_bytes() == build.binary.read_bytes()
    assert copied.stat().st_ino != build.binary.stat().st_ino
    assert os.access(copied, os.X_OK)


def test_stale_rules() -> None:
    base, cdx, base_tag = "b" * 12, "c" * 12, "codex-native-matrix/base:" + "b" * 12
    def lab(**kw: str) -> dict[str, str]:
        return {f"codex-native-matrix.{k}": v for k, v in kw.items()}
    assert not _stale(lab(kind="base", recipe=base), base, cdx, base_tag)
    assert _stale(lab(kind="base", recipe="0" * 12), base, cdx, base_tag)
    assert not _stale(lab(kind="codex", recipe=cdx, base=base_tag), base, cdx, base_tag)
    assert _stale(lab(kind="codex", recipe=cdx, base="codex-native-matrix/base:old"), base, cdx, base_tag)
    assert _stale(lab(kind="codex", recipe="0" * 12, base=base_tag), base, cdx, base_tag)
    assert _stale(lab(kind="something-else"), base, cdx, base_tag)


def test_debian_mirror_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_MATRIX_DEBIAN_MIRROR", raising=False)
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    debian = tmp_path / "os-release"
    debian.write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')
    assert rootfs.debian_mirror(apt, debian) == rootfs.DEFAULT_MIRROR  # no sources at all
    (apt / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# comment\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian/\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
    )
    assert rootfs.debian_mirror(apt, debian) == "http://mirror.example/debian"
    (apt / "sources.list").write_text("deb [arch=amd64] http://oneline.example/debian bookworm main\n")
    assert rootfs.debian_mirror(apt, debian) == "http://oneline.example/debian"
    ubuntu = tmp_path / "ubuntu-release"
    ubuntu.write_text("ID=ubuntu\nID_LIKE=debian\n")
    assert rootfs.debian_mirror(apt, ubuntu) == rootfs.DEFAULT_MIRROR  # an Ubuntu mirror has no bookworm
    monkeypatch.setenv("CODEX_MATRIX_DEBIAN_MIRROR", "http://override.example/debian/")
    assert rootfs.debian_mirror(apt, debian) == "http://override.example/debian"


def test_mounts_below_finds_leftover_mounts_deepest_first(tmp_path: Path) -> None:
    target = tmp_path / "root fs"
    target.mkdir()
    escaped = str(target).replace(" ", "\\040")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 8:1 / / rw - ext4 /dev/vda rw\n"
        f"40 22 0:5 / {escaped}/proc rw - proc proc rw\n"
        f"41 40 0:6 / {escaped}/proc/sys/fs/binfmt_misc rw - binfmt_misc x rw\n"
        f"42 22 0:7 / {escaped}-other/proc rw - proc proc rw\n"
    )
    assert rootfs.mounts_below(target, mountinfo) == [target / "proc/sys/fs/binfmt_misc", target / "proc"]


def test_remove_rootfs_deletes_tree_without_mounts(tmp_path: Path) -> None:
    target = tmp_path / ".rootfs-1-x"
    (target / "usr" / "bin").mkdir(parents=True)
    (target / "usr" / "bin" / "python3").write_text("")
    rootfs.remove_rootfs(target)
    assert not target.exists()


def test_trim_drops_package_caches_and_host_identity(tmp_path: Path) -> None:
    for rel, text in {"var/cache/apt/archives/libc6.deb": "x", "var/lib/apt/lists/deb_dists_Release": "x",
                      "var/lib/apt/lists/lock": "", "etc/resolv.conf": "nameserver 127.0.0.53\n",
                      "etc/hostname": "buildhost\n", "usr/bin/python3": "py"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    rootfs._trim(tmp_path)
    assert not (tmp_path / "var/cache/apt/archives/libc6.deb").exists()
    assert not (tmp_path / "var/lib/apt/lists/deb_dists_Release").exists()
    assert (tmp_path / "var/lib/apt/lists/lock").exists()
    assert (tmp_path / "etc/resolv.conf").read_text() == ""
    assert (tmp_path / "etc/hostname").read_text() == ""
    assert (tmp_path / "usr/bin/python3").read_text() == "py"


def test_non_root_gets_a_fix_for_the_offline_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match="needs root for debootstrap"):
        rootfs.debootstrap_command(NullProgress())


class _FakeContainer:
    """Just the attributes prune reads; `top` mimics docker's ps table."""

    def __init__(self, status: str, kind: str, processes: list[list[str]]) -> None:
        self.status = status
        self.labels = {"codex-native-matrix.kind": kind}
        self._processes = processes

    def top(self) -> dict[str, list[list[str]]]:
        return {"Titles": ["UID", "PID", "CMD"], "Processes": self._processes}


SLEEP = ["root", "10", "sleep infinity"]
SUITE = ["root", "42", "python3 -m pytest /project/tests/contract -q"]


@pytest.mark.parametrize(
    ("container", "kept"),
    [
        (_FakeContainer("running", "run", [SLEEP]), True),
        (_FakeContainer("running", "run", [SLEEP, ["root", "11", "bash"]]), True),
        (_FakeContainer("running", "run", [SLEEP, SUITE]), False),  # a live run: never touched
        (_FakeContainer("running", "codex", [SLEEP]), False),  # not a run container
        (_FakeContainer("exited", "run", []), False),  # stopped ones are pruned on their own rule
    ],
)
def test_idle_run_container_is_one_whose_suite_ended(container: _FakeContainer, kept: bool) -> None:
    assert is_idle_run(container) is kept


def test_labels_fold_into_one_instruction(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "cache")
    context = tmp_path / "cache" / ".ctx-labels"
    context.mkdir()
    codex.build_context(build, REPO_CONTAINERS / "codex", context)
    labels = codex.version_labels(build, "codex-native-matrix/base:0123456789ab")
    codex.fold_labels(context, labels)
    text = (context / "Dockerfile").read_text()
    assert text.startswith((REPO_CONTAINERS / "codex" / "Dockerfile").read_text())
    label_lines = [line for line in text.splitlines() if line.startswith("LABEL ")]
    assert len(label_lines) == 1
    assert all(f'"{key}"="{value}"' in label_lines[0] for key, value in labels.items())


class _Images:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, ref: str) -> object:
        import docker.errors

        if ref not in self.present:
            raise docker.errors.ImageNotFound(ref)
        return object()


def test_an_existing_image_of_a_cached_tree_is_used_without_rechecking_the_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Naming the image needs only build.json; the 300 MB binary is hashed only when the tree is used."""
    import json

    from harness import images
    from harness.binaries.cache import recorded_tree_digest

    cache = tmp_path / "cache"
    (cache / "0.44.0" / "tree").mkdir(parents=True)
    (cache / "0.44.0" / "build.json").write_text(json.dumps({"schema": 1, "version": "0.44.0",
                                                             "tree_sha256": "c" * 64}))
    assert recorded_tree_digest("0.44.0", cache_dir=cache) == "c" * 64
    assert recorded_tree_digest("0.45.0", cache_dir=cache) is None
    base_tag = recipes.base_tag(recipes.base_recipe())
    tag = recipes.codex_tag("0.44.0", recipes.codex_recipe(), base_tag, "c" * 64)
    client = type("Client", (), {"images": _Images({base_tag, tag})})()
    used: list[str] = []
    monkeypatch.setattr(images, "ensure_base_image", lambda client, **kw: base_tag)
    monkeypatch.setattr(images, "cached", lambda version, **kw: used.append(version))
    assert images.ensure_images(client, ["0.44.0"], cache_dir=cache) == {"0.44.0": tag}
    assert used == []
    client.images.present.discard(tag)  # no image yet: the tree is consulted (checked) to build it

    def no_network(*args: object, **kwargs: object) -> None:
        raise RuntimeError("fetch")

    monkeypatch.setattr(images, "find_by_labels", lambda *a: None)
    monkeypatch.setattr(images, "fetch", no_network)
    with pytest.raises(RuntimeError, match="fetch"):  # the fake cached() has no build: it would download
        images.ensure_images(client, ["0.44.0"], cache_dir=cache)
    assert used == ["0.44.0"]
