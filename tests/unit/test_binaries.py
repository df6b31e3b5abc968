"""Build cache against a real HTTP server on 127.0.0.1 acting as the npm registry.

The tarballs are built here with tiny shell-script "codex" executables that print ``codex-cli X.Y.Z``,
so every path (download, integrity, safe unpack, ``--version`` check, atomic install) runs for real.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.binaries import cache_root, cached, fetch, registry_url
from harness.binaries.identity import version_line
from harness.cli import fetch as fetch_cli
from harness.errors import UserError

TRIPLE = "x86_64-unknown-linux-musl"


def script(version: str) -> bytes:
    return f'#!/bin/sh\necho "codex-cli {version}"\n'.encode()


def make_tgz(members: dict[str, bytes | tuple[str, str]], *, prefix: str = "package/") -> bytes:
    """Members: path -> file bytes (mode 755 if it starts with #!), or ("sym"|"lnk", target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name if name.startswith(("/", "..")) else prefix + name)
            info.mtime = 1_700_000_000
            if isinstance(content, tuple):
                kind, target = content
                info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                info.linkname = target
                tar.addfile(info)
            else:
                info.size = len(content)
                info.mode = 0o755 if content.startswith(b"#!") else 0o644
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@dataclass
class FakeRegistry:
    """Serves a packument of @openai/codex and its tarballs; counts requests."""

    url: str = ""
    versions: dict[str, dict[str, object]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, version: str, tgz: bytes, *, integrity: str | None = None,
                linux_x64: str | None = None) -> None:
        path = f"/@openai/codex/-/codex-{version}.tgz"
        self.files[path] = tgz
        meta: dict[str, object] = {
            "name": "@openai/codex", "version": version,
            "dist": {"tarball": self.url + path.lstrip("/"), "integrity": integrity or sri(tgz)},
        }
        if linux_x64:
            meta["optionalDependencies"] = {"@openai/codex-linux-x64": f"npm:@openai/codex@{linux_x64}"}
        self.versions[version] = meta

    def packument(self) -> bytes:
        return json.dumps({"name": "@openai/codex", "dist-tags": {"latest": "0.150.0"},
                           "versions": self.versions}).encode()


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    state = FakeRegistry()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path.lower() == "/@openai%2fcodex":
                assert "application/vnd.npm.install-v1+json" in self.headers.get("Accept", "")
                body = state.packument()
            elif self.path in state.files:
                body = state.files[self.path]
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    # Both packaging eras plus the single-binary layout of <= 0.40.
    state.publish("0.20.0", make_tgz({
        "package.json": b"{}",
        f"bin/codex-{TRIPLE}": script("0.20.0"),
        "bin/codex-aarch64-apple-darwin": b"#!/bin/sh\nexit 9\n",
    }))
    state.publish("0.44.0", make_tgz({
        "package.json": b"{}",
        f"vendor/{TRIPLE}/codex/codex": script("0.44.0"),
        f"vendor/{TRIPLE}/path/rg": b"#!/bin/sh\necho rg\n",
        "vendor/aarch64-apple-darwin/codex/codex": b"#!/bin/sh\nexit 9\n",
    }))
    state.publish("0.150.0", make_tgz({"package.json": b"{}", "bin/codex.js": b""}),
                  linux_x64="0.150.0-linux-x64")
    state.publish("0.150.0-linux-x64", make_tgz({
        f"vendor/{TRIPLE}/codex-package.json": json.dumps({"entrypoint": "bin/codex"}).encode(),
        f"vendor/{TRIPLE}/bin/codex": script("0.150.0"),
        f"vendor/{TRIPLE}/bin/codex-code-mode-host": b"#!/bin/sh\n",
        f"vendor/{TRIPLE}/codex-resources/voice/manifest.json": b"{}",
        f"vendor/{TRIPLE}/codex-resources/voice/lib/libz.so": ("sym", "libz.so.1"),
        f"vendor/{TRIPLE}/codex-resources/voice/lib/libz.so.1": b"\x7fELF",
    }))
    yield state
    server.shutdown()
    server.server_close()


def leftovers(root: Path) -> list[str]:
    """Everything in the cache except lock files: must be empty after a failed fetch."""
    return sorted(p.name for p in root.iterdir() if p.name != ".locks") if root.exists() else []


@pytest.mark.parametrize(
    ("version", "relpath", "expected_files"),
    [
        ("0.20.0", f"codex-{TRIPLE}", {f"codex-{TRIPLE}"}),
        ("0.44.0", "codex/codex", {"codex/codex", "path/rg"}),
        ("0.150.0", "bin/codex", {"codex-package.json", "bin/codex", "bin/codex-code-mode-host",
                                  "codex-resources/voice/manifest.json", "codex-resources/voice/lib/libz.so",
                                  "codex-resources/voice/lib/libz.so.1"}),
    ],
)
def test_fetch_both_packaging_eras(registry: FakeRegistry, tmp_path: Path, version: str, relpath: str,
                                   expected_files: set[str]) -> None:
    build = fetch(version, cache_dir=tmp_path, registry=registry.url)
    assert build.binary_relpath == relpath
    assert build.binary == build.root / relpath
    assert build.version_line == f"codex-cli {version}"
    assert build.sha256 == hashlib.sha256(build.binary.read_bytes()).hexdigest()
    kept = {p.relative_to(build.root).as_posix() for p in build.root.rglob("*") if not p.is_dir()}
    assert kept == expected_files  # only the linux x64 tree: other platforms and npm files dropped
    assert os.access(build.binary, os.X_OK)
    npm_version = f"{version}-linux-x64" if version == "0.150.0" else version
    assert build.integrity == registry.versions[npm_version]["dist"]["integrity"]  # type: ignore[index]
    assert leftovers(tmp_path) == [version]
    assert cached(version, cache_dir=tmp_path) == build
    if version == "0.150.0":
        assert (build.root / "codex-resources/voice/lib/libz.so").is_symlink()


def test_cache_hit_does_no_network(registry: FakeRegistry, tmp_path: Path) -> None:
    first = fetch("0.44.0", cache_dir=tmp_path, registry=registry.url)
    count = len(registry.requests)
    assert count == 2  # packument + tarball
    again = fetch("0.44.0", cache_dir=tmp_path, registry="http://127.0.0.1:9/")  # unreachable: unused
    assert again == first
    assert len(registry.requests) == count
    assert cached("0.44.0", cache_dir=tmp_path, verify=True) == first


def test_tree_digest_is_stable_and_content_addressed(registry: FakeRegistry, tmp_path: Path) -> None:
    one = fetch("0.44.0", cache_dir=tmp_path / "a", registry=registry.url)
    two = fetch("0.44.0", cache_dir=tmp_path / "b", registry=registry.url)
    assert one.tree_sha256 == two.tree_sha256
    other = fetch("0.20.0", cache_dir=tmp_path / "a", registry=registry.url)
    assert other.tree_sha256 != one.tree_sha256


def test_damaged_entry_is_detected_and_refetched(registry: FakeRegistry, tmp_path: Path) -> None:
    build = fetch("0.44.0", cache_dir=tmp_path, registry=registry.url)
    build.binary.write_bytes(script("6.6.6"))  # same size, different content
    assert cached("0.44.0", cache_dir=tmp_path) is None
    (build.root / "path/rg").write_bytes(b"x")
    assert cached("0.44.0", cache_dir=tmp_path) is None
    repaired = fetch("0.44.0", cache_dir=tmp_path, registry=registry.url)
    assert repaired.binary.read_bytes() == script("0.44.0")
    assert repaired.tree_sha256 == build.tree_sha256
    assert leftovers(tmp_path) == ["0.44.0"]


def test_integrity_mismatch_leaves_nothing(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.publish("0.45.0", make_tgz({f"vendor/{TRIPLE}/codex/codex": script("0.45.0")}),
                     integrity=sri(b"something else"))
    with pytest.raises(UserError, match=r"integrity mismatch for @openai/codex@0\.45\.0"):
        fetch("0.45.0", cache_dir=tmp_path, registry=registry.url)
    assert leftovers(tmp_path) == []
    assert cached("0.45.0", cache_dir=tmp_path) is None


def test_unknown_version_names_nearest(registry: FakeRegistry, tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        fetch("0.43.0", cache_dir=tmp_path, registry=registry.url)
    message = str(info.value)
    assert "0.43.0 is not published" in message
    assert "nearest published: 0.20.0, 0.44.0, 0.150.0" in message
    assert "-linux-x64" not in message
    assert "\n" not in message
    assert leftovers(tmp_path) == []


def test_bad_version_strings_rejected_before_any_io(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"write 0\.150\.0"):
        fetch("0.150.0-linux-x64", cache_dir=tmp_path, registry="http://127.0.0.1:9/")
    with pytest.raises(UserError, match=r"is not an X\.Y\.Z version"):
        cached("../etc", cache_dir=tmp_path)


def test_unreachable_registry(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        fetch("0.44.0", cache_dir=tmp_path, registry="http://127.0.0.1:9/")
    message = str(info.value)
    assert "npm registry http://127.0.0.1:9/ is unreachable" in message
    assert "NPM_CONFIG_REGISTRY" in message
    assert leftovers(tmp_path) == []


def test_alias_to_missing_platform_build(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.publish("0.160.0", make_tgz({"bin/codex.js": b""}), linux_x64="0.160.0-linux-x64")
    with pytest.raises(UserError, match="does not carry"):
        fetch("0.160.0", cache_dir=tmp_path, registry=registry.url)


def test_package_without_linux_build(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.publish("0.1.0", make_tgz({"package.json": b"{}", "dist/cli.js": b""}))
    with pytest.raises(UserError, match="contains no Linux x64 codex build"):
        fetch("0.1.0", cache_dir=tmp_path, registry=registry.url)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("member", "content"),
    [
        (f"package/../../escaped-{os.getpid()}", b"pwned"),
        (f"/tmp/escaped-{os.getpid()}", b"pwned"),
        (f"vendor/{TRIPLE}/codex/evil", ("sym", "/etc/passwd")),
        (f"vendor/{TRIPLE}/codex/evil", ("sym", "../../../../../etc/passwd")),
        (f"vendor/{TRIPLE}/codex/evil", ("sym", "../../../bin/codex.js")),  # in package, outside tree
        (f"vendor/{TRIPLE}/codex/evil", ("lnk", "package/bin/codex.js")),
    ],
)
def test_unsafe_tarballs_rejected(registry: FakeRegistry, tmp_path: Path, member: str,
                                  content: bytes | tuple[str, str]) -> None:
    tgz = make_tgz({"bin/codex.js": b"", f"vendor/{TRIPLE}/codex/codex": script("0.46.0"), member: content})
    registry.publish("0.46.0", tgz)
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match="refusing to unpack"):
        fetch("0.46.0", cache_dir=cache, registry=registry.url)
    assert leftovers(cache) == []
    assert not list(tmp_path.rglob("escaped-*"))
    assert not Path(f"/tmp/escaped-{os.getpid()}").exists()


def test_symlinked_directory_cannot_redirect_writes(registry: FakeRegistry, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    tgz = make_tgz({
        f"vendor/{TRIPLE}/dir": ("sym", str(outside)),
        f"vendor/{TRIPLE}/dir/codex": script("0.47.0"),
    })
    registry.publish("0.47.0", tgz)
    with pytest.raises(UserError, match="refusing to unpack"):
        fetch("0.47.0", cache_dir=tmp_path / "cache", registry=registry.url)
    assert list(outside.iterdir()) == []


def test_version_mismatch_rejected(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.publish("0.48.0", make_tgz({f"vendor/{TRIPLE}/codex/codex": script("0.47.9")}))
    with pytest.raises(UserError, match=r"reports 'codex-cli 0\.47\.9', expected 'codex-cli 0\.48\.0'"):
        fetch("0.48.0", cache_dir=tmp_path, registry=registry.url)
    assert leftovers(tmp_path) == []


def test_stale_scratch_dirs_of_dead_runs_are_swept(registry: FakeRegistry, tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".tmp-{dead.pid}-deadbeef"
    (stale / "entry").mkdir(parents=True)
    live = tmp_path / f".tmp-{os.getppid()}-cafecafe"  # our parent is alive: must be left alone
    live.mkdir()
    fetch("0.20.0", cache_dir=tmp_path, registry=registry.url)
    assert not stale.exists()
    assert live.exists()


def test_version_probe_kills_hanging_binary(tmp_path: Path) -> None:
    hang = tmp_path / "codex"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(UserError, match="did not exit"):
        version_line(hang, timeout=0.5)
    assert time.monotonic() - started < 5


def test_registry_url_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    for name in ("NPM_CONFIG_REGISTRY", "npm_config_registry", "MIRROR_HOST"):
        monkeypatch.delenv(name, raising=False)
    assert registry_url() == "https://registry.npmjs.org/"
    (home / ".npmrc").write_text("fund=false\nregistry=https://home.example/npm\n")
    assert registry_url() == "https://home.example/npm/"
    monkeypatch.setenv("MIRROR_HOST", "mirror.example")
    (project / ".npmrc").write_text("; comment\nregistry = \"https://${MIRROR_HOST}/plain/\"\n")
    assert registry_url() == "https://mirror.example/plain/"
    (project / ".npmrc").write_text("@openai:registry=https://scoped.example/\nregistry=https://plain.example/\n")
    assert registry_url() == "https://scoped.example/"
    monkeypatch.setenv("npm_config_registry", "https://lower.example")
    assert registry_url() == "https://lower.example/"
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "https://upper.example/")
    assert registry_url() == "https://upper.example/"


def test_cache_root_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_MATRIX_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("CODEX_MATRIX_CACHE")
    assert cache_root().parts[-2:] == ("codex-native-matrix", "builds")


def test_fetch_cli_prints_path_and_version(registry: FakeRegistry, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    fetch_cli.register(parser.add_subparsers())
    args = parser.parse_args(["fetch", "0.20.0", "0.150.0", "--cache-dir", str(tmp_path),
                              "--registry", registry.url])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines == [
        f"0.20.0\t{tmp_path}/0.20.0/tree/codex-{TRIPLE}\tcodex-cli 0.20.0",
        f"0.150.0\t{tmp_path}/0.150.0/tree/bin/codex\tcodex-cli 0.150.0",
    ]
    # Not a TTY: one line per finished step, no bar redraws.
    assert "download @openai/codex@0.150.0-linux-x64" in err
    assert len(err.splitlines()) == 4


def test_relative_cache_dir_works_from_anywhere(registry: FakeRegistry, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`--cache-dir ../cache` once failed every fetch: the identity check ran the binary by its relative
    path from a scratch dir ("cannot execute ../cache/.tmp-…/codex")."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    build = fetch("0.44.0", cache_dir=Path("../cache"), registry=registry.url)
    assert build.root.is_absolute() and build.root.is_relative_to(tmp_path / "cache")
    assert cached("0.44.0", cache_dir=Path("../cache")) is not None
    monkeypatch.setenv("CODEX_MATRIX_CACHE", "../cache")
    assert cached("0.44.0") is not None
