"""The SDK cache against a local fake npm registry: integrity checked, only dist/ kept, damage refetched."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.lanes import sdk_cache

INDEX = b"export class Codex {}\n"
GOOD = sdk_cache.make_tarball({
    "package/package.json": b'{"name": "@openai/codex-sdk", "version": "0.163.0", "type": "module"}',
    "package/dist/index.js": INDEX,
    "package/dist/index.d.ts": b"export {};\n",
    "package/README.md": b"not kept\n",
})


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class Registry:
    def __init__(self) -> None:
        self.tarballs: dict[str, bytes] = {}
        self.integrity: dict[str, str] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                registry.requests.append(self.path)
                if self.path == "/@openai%2Fcodex-sdk":
                    body = json.dumps({"name": sdk_cache.PACKAGE, "versions": {
                        v: {"dist": {"tarball": f"{registry.url}tarballs/{v}.tgz", "integrity": registry.integrity[v]}}
                        for v in registry.tarballs}}).encode()
                elif self.path.startswith("/tarballs/"):
                    body = registry.tarballs[self.path.removeprefix("/tarballs/").removesuffix(".tgz")]
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, version: str, tarball: bytes, integrity: str | None = None) -> None:
        self.tarballs[version] = tarball
        self.integrity[version] = integrity or sri(tarball)


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry()
    yield reg
    reg.server.shutdown()
    reg.server.server_close()


def test_fetch_keeps_only_dist_and_package_json_and_caches(tmp_path: Path, registry: Registry) -> None:
    registry.publish("0.163.0", GOOD)
    sdk = sdk_cache.fetch_sdk("0.163.0", cache_dir=tmp_path, registry=registry.url)
    assert sdk.dist == tmp_path / "0.163.0" / "package" / "dist"
    assert (sdk.dist / "index.js").read_bytes() == INDEX
    assert sorted(sdk.files) == ["dist/index.d.ts", "dist/index.js", "package.json"]
    assert not (sdk.dist.parent / "README.md").exists()
    assert sdk.integrity == sri(GOOD)
    served = len(registry.requests)
    assert sdk_cache.fetch_sdk("0.163.0", cache_dir=tmp_path, registry=registry.url) == sdk
    assert len(registry.requests) == served  # the second fetch is the cache
    assert sdk_cache.cached("0.163.0", cache_dir=tmp_path) == sdk


def test_a_tampered_tarball_is_refused_and_nothing_is_cached(tmp_path: Path, registry: Registry) -> None:
    registry.publish("0.163.0", GOOD, integrity=sri(b"something else"))
    with pytest.raises(UserError, match=r"integrity mismatch for @openai/codex-sdk@0\.163\.0"):
        sdk_cache.fetch_sdk("0.163.0", cache_dir=tmp_path, registry=registry.url)
    assert not (tmp_path / "0.163.0").exists()


def test_a_damaged_entry_is_fetched_again(tmp_path: Path, registry: Registry) -> None:
    registry.publish("0.163.0", GOOD)
    sdk = sdk_cache.fetch_sdk("0.163.0", cache_dir=tmp_path, registry=registry.url)
    (sdk.dist / "index.js").write_text("export class Codex { evil() {} }\n")
    assert sdk_cache.cached("0.163.0", cache_dir=tmp_path) is None
    again = sdk_cache.fetch_sdk("0.163.0", cache_dir=tmp_path, registry=registry.url)
    assert (again.dist / "index.js").read_bytes() == INDEX


def test_an_unpublished_version_names_the_nearest(tmp_path: Path, registry: Registry) -> None:
    registry.publish("0.163.0", GOOD)
    with pytest.raises(UserError, match=r"0\.164\.0 is not published.*nearest published: 0\.163\.0"):
        sdk_cache.fetch_sdk("0.164.0", cache_dir=tmp_path, registry=registry.url)


@pytest.mark.parametrize("version", ["../x", "0.163", "latest", "0.163.0/.."])
def test_odd_versions_never_become_paths(tmp_path: Path, version: str) -> None:
    with pytest.raises(UserError, match="is not an @openai/codex-sdk version"):
        sdk_cache.fetch_sdk(version, cache_dir=tmp_path, registry="http://127.0.0.1:9/")


def test_a_tarball_with_a_link_in_dist_is_refused(tmp_path: Path) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/dist/index.js")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(info)
    tgz = tmp_path / "x.tgz"
    tgz.write_bytes(buffer.getvalue())
    with pytest.raises(UserError, match=r"refusing 'package/dist/index\.js'"):
        sdk_cache.extract_dist(tgz, tmp_path / "out", label="x")


def test_a_tarball_without_dist_is_not_an_sdk(tmp_path: Path) -> None:
    tgz = tmp_path / "x.tgz"
    tgz.write_bytes(sdk_cache.make_tarball({"package/package.json": b"{}"}))
    with pytest.raises(UserError, match=r"no package/dist/index\.js"):
        sdk_cache.extract_dist(tgz, tmp_path / "out", label="x")
