"""Builds from anywhere (issue 26): specs, ids, the cache import and its one-line refusals, expectations.

The builds here are shell scripts that answer ``--version`` as codex does: enough for the import (which
only runs ``codex --version``), never a stream; tests/integration/test_local_builds.py runs real ones.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from harness.binaries import cache, local
from harness.buildid import is_local, local_id, pep440, reported_version
from harness.errors import UserError
from harness.matrix.schema import When
from harness.npmversion import parse_version, version_key

pytestmark = pytest.mark.skipif(not __import__("harness.binaries.identity", fromlist=["x"]).can_run_here(),
                                reason="local builds are identified by running them: Linux x64 only")


def fake_codex(path: Path, line: str = "codex-cli 0.172.0", extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\n# {extra}\nif [ "$1" = --version ]; then echo "{line}"; exit 0; fi\nexit 3\n')
    path.chmod(0o755)
    return path


def failing(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)
    return path


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.mark.parametrize(("text", "spec"), [
    ("./codex", True), ("/usr/bin/codex", True), ("~/builds/codex", True), ("pkg.tgz", True),
    ("@scope/codex-fork@1.2.3", True), ("codex-fork@1.2.3", True), ("../codex", True),
    ("0.117.0", False), ("0.128.0-alpha.1", False), ("@openai/codex@0.117.0", False), ("latest-2", False),
    ("0.117.0..0.120.0", False), ("0.172.0-local.3f9a1c2e", False), ("codex0.117.0", False),
])
def test_what_versions_takes_as_a_build_from_elsewhere(text: str, spec: bool) -> None:
    assert local.is_spec(text) is spec


def test_an_executable_becomes_a_local_build_named_by_its_version_and_content(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    build = local.import_build(str(fake_codex(tmp_path / "a" / "codex")), cache_dir=root)
    assert is_local(build.version) and reported_version(build.version) == "0.172.0"
    assert build.version == local_id("0.172.0", build.tree_sha256)
    assert build.version_line == "codex-cli 0.172.0" and build.binary_relpath == "bin/codex"
    assert cache.cached(build.version, cache_dir=root) == build  # a later run finds it by id
    again = local.import_build(str(tmp_path / "a" / "codex"), cache_dir=root)
    assert again.version == build.version  # same content, same id, one entry
    other = local.import_build(str(fake_codex(tmp_path / "b" / "codex", extra="patched")), cache_dir=root)
    assert other.version != build.version and reported_version(other.version) == "0.172.0"
    assert entries(root) == sorted([build.version, other.version, *[p for p in entries(root) if p.startswith(".")]])


def test_a_release_binary_copied_out_keeps_the_release_version_apart_from_the_release(tmp_path: Path) -> None:
    build = local.import_build(str(fake_codex(tmp_path / "codex", "codex-cli 0.171.0")), cache_dir=tmp_path / "c")
    assert build.version.startswith("0.171.0-local.") and build.version != "0.171.0"
    assert version_key(build.version) > version_key("0.171.0") and version_key(build.version) < version_key("0.171.1")


def test_an_unpacked_package_and_its_npm_pack_tarball_import_alike(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg" / "package"
    fake_codex(pkg / "vendor" / "x86_64-unknown-linux-musl" / "codex" / "codex")
    (pkg / "vendor" / "x86_64-unknown-linux-musl" / "codex" / "helper").write_text("beside codex\n")
    fake_codex(pkg / "vendor" / "aarch64-unknown-linux-musl" / "codex" / "codex", "codex-cli 9.9.9")
    tgz = tmp_path / "codex-0.172.0.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        archive.add(pkg, arcname="package")
    from_dir = local.import_build(str(tmp_path / "pkg"), cache_dir=tmp_path / "c1")
    from_tgz = local.import_build(str(tgz), cache_dir=tmp_path / "c2")
    assert from_dir.version == from_tgz.version  # the same Linux x64 tree, helpers included
    assert sorted(p.name for p in (from_dir.root / "codex").iterdir()) == ["codex", "helper"]


@pytest.mark.parametrize(("make", "says"), [
    (lambda d: failing(d / "fail.sh"), "is not a working codex build: `codex --version` failed (exit 1"),
    (lambda d: fake_codex(d / "hello", "hello"), "printed 'hello', not 'codex-cli X.Y.Z'"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "the directory holds no codex build"),
    (lambda d: (d / "bad.tgz").write_bytes(b"not gzip") and d / "bad.tgz", "is not a readable .tgz"),
    (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "not an executable file, a directory or a .tgz"),
    (lambda d: d / "missing", "no such file or directory"),
])
def test_what_is_not_a_codex_build_gets_one_line_and_leaves_nothing(tmp_path: Path, make, says: str) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "cache"
    spec = make(tmp_path)
    with pytest.raises(UserError) as caught:
        local.import_build(str(spec), cache_dir=root)
    message = str(caught.value)
    assert says in message and "\n" not in message and len(message) < 300, message
    assert caught.value.exit_code == 2
    assert [p for p in entries(root) if not p.endswith(".lock")] == []  # nothing cached, no scratch left


def test_a_tarball_that_escapes_its_package_is_refused(tmp_path: Path) -> None:
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        data = b"#!/bin/sh\necho codex-cli 0.172.0\n"
        member = tarfile.TarInfo("package/../../escaped")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    with pytest.raises(UserError, match="unsafe"):
        local.import_build(str(tgz), cache_dir=tmp_path / "c")
    assert not (tmp_path / "escaped").exists()


def test_a_local_id_the_cache_lost_says_to_name_the_build_again(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="name its path"):
        cache.fetch("0.172.0-local.3f9a1c2e", cache_dir=tmp_path)


def test_expectations_select_local_builds_by_reported_version_and_the_local_flag() -> None:
    build = "0.130.0-local.3f9a1c2e"
    assert parse_version(build) == build and pep440(build) == "0.130.0+local.3f9a1c2e"
    assert When(versions=">=0.117,<0.146").matches(build, "codex-api-key", "ephemeral")
    assert not When(versions=">=0.146").matches(build, "codex-api-key", "ephemeral")
    assert not When(versions=">=0.117", local=False).matches(build, "codex-api-key", "ephemeral")
    assert When(local=True).matches(build, "codex-api-key", "ephemeral")
    assert not When(local=True).matches("0.130.0", "codex-api-key", "ephemeral")
    with pytest.raises(ValueError):
        parse_version("banana-local.3f9a1c2e")


def test_matrix_yaml_versions_take_local_builds_relative_to_the_file(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.matrix import load_matrix

    monkeypatch.setenv("CODEX_MATRIX_CACHE", str(tmp_path / "cache"))
    fake_codex(tmp_path / "builds" / "codex", "codex-cli 0.173.0")
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text("versions: [./builds/codex, 0.169.0]\n")
    config = load_matrix(matrix)
    assert config.versions[0].startswith("0.173.0-local.") and config.versions[1] == "0.169.0"
    matrix.write_text("versions: [./builds/missing]\n")
    with pytest.raises(UserError, match=r"matrix.yaml: versions: .*no such file or directory"):
        load_matrix(matrix)
