"""The release list: what counts as a release, `--versions latest-N / A..B`, the offline cache, `versions`.

The registry is a real HTTP server on loopback serving a packument shaped like npm's (both packaging
eras, a release whose linux-x64 build was never published, the TypeScript CLI's date-stamped builds).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.errors import UserError
from harness.releases import (
    Release,
    ReleaseIndex,
    expand_items,
    expand_versions_arg,
    is_release,
    load_index,
    releases_from_packument,
)


def _meta(version: str, alias: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"version": version, "dist": {"tarball": f"https://r/{version}.tgz",
                                                        "integrity": "sha512-AAAA"}}
    if alias is not None:
        meta["optionalDependencies"] = {"@openai/codex-linux-x64": f"npm:@openai/codex@{alias}"}
    return meta


def packument() -> dict[str, Any]:
    versions: dict[str, Any] = {}
    for v in ("0.1.2504172351", "0.20.0", "0.98.0"):
        versions[v] = _meta(v)
    for v in ("0.99.0", "0.117.0", "0.125.0", "0.142.0", "0.142.1", "0.142.2", "0.143.0"):
        versions[v] = _meta(v, alias=f"{v}-linux-x64")
        if v != "0.142.1":  # named by its release, never published (as on npm)
            versions[f"{v}-linux-x64"] = _meta(f"{v}-linux-x64")
    versions["0.144.0-alpha.1"] = _meta("0.144.0-alpha.1")
    times = {v: f"2026-0{1 + i % 9}-01T00:00:00Z" for i, v in enumerate(versions)}
    return {"name": "@openai/codex", "versions": versions, "time": {"modified": "x", **times}}


@pytest.fixture
def registry() -> Iterator[str]:
    body = json.dumps(packument()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/@openai%2Fcodex":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


DEAD = "http://127.0.0.1:9/"  # nothing listens on the discard port: connection refused at once


@pytest.mark.parametrize(("version", "release"), [
    ("0.20.0", True), ("0.142.5", True), ("0.1.2504172351", False), ("0.99.0-linux-x64", False),
    ("0.144.0-alpha.1", False), ("0.117", False),
])
def test_what_counts_as_a_release(version: str, release: bool) -> None:
    assert is_release(version) is release


def test_releases_from_packument_know_both_packaging_eras() -> None:
    releases = {r.version: r for r in releases_from_packument(packument())}
    assert list(releases) == ["0.20.0", "0.98.0", "0.99.0", "0.117.0", "0.125.0", "0.142.0", "0.142.1", "0.142.2",
                              "0.143.0"]
    assert releases["0.98.0"].linux_x64 == "0.98.0"  # one tarball, every platform
    assert releases["0.99.0"].linux_x64 == "0.99.0-linux-x64"
    assert releases["0.142.1"].linux_x64 is None and not releases["0.142.1"].installable
    assert releases["0.20.0"].published is not None


def _index() -> ReleaseIndex:
    return ReleaseIndex("r/", "2026-01-01T00:00:00Z", tuple(releases_from_packument(packument())))


@pytest.mark.parametrize(("items", "want"), [
    (["latest"], ["0.143.0"]),
    (["latest-1"], ["0.142.2"]),  # counted over releases with a linux-x64 build: 0.142.1 has none
    (["latest-0", "0.117.0"], ["0.143.0", "0.117.0"]),
    (["0.125.0..0.143.0"], ["0.125.0", "0.142.0", "0.142.2", "0.143.0"]),  # patch releases in, 0.142.1 out
    (["0.98.0..0.99.0"], ["0.98.0", "0.99.0"]),
    (["0.117.0..0.117.0"], ["0.117.0"]),
    (["latest-2..latest"], ["0.142.0", "0.142.2", "0.143.0"]),
    (["9.9.9"], ["9.9.9"]),  # a plain version passes through: the fetch judges it
])
def test_version_items_expand(items: list[str], want: list[str]) -> None:
    notes: list[str] = []
    assert expand_items(items, _index, note=notes.append) == want
    if "0.125.0..0.143.0" in items:
        assert notes == ["--versions: left out 0.142.1: npm has no linux-x64 build of them"]


@pytest.mark.parametrize(("item", "fragment"), [
    ("0.143.0..0.117.0", "0.143.0..0.117.0 is reversed: write the older release first (0.117.0..0.143.0)"),
    ("0.118.0..0.125.0", "0.118.0 is not a stable release of @openai/codex (nearest published: 0.99.0, 0.117.0"),
    ("latest-999", "latest-999 goes back past the 8 releases with a linux-x64 build: use at most latest-7"),
    ("latest-x", "'latest-x' is not latest or latest-N"),
    ("0.117.0..", "'0.117.0..' is not a range: write OLD..NEW"),
    ("0.98.0..0.99.0..0.117.0", "is not a range"),
])
def test_bad_version_items_are_one_line_errors(item: str, fragment: str) -> None:
    with pytest.raises(UserError) as err:
        expand_items([item], _index)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_index_is_loaded_only_when_an_item_needs_it() -> None:
    def unreachable() -> ReleaseIndex:
        raise AssertionError("the registry was asked for plain versions")

    assert expand_items(["0.117.0", "0.20.0"], unreachable) == ["0.117.0", "0.20.0"]
    assert expand_versions_arg(None) is None
    assert expand_versions_arg("0.117.0,0.20.0") == "0.117.0,0.20.0"


def test_fetched_list_is_cached_and_answers_offline(registry: str, tmp_path: Path) -> None:
    cache = tmp_path / "releases.json"
    online = load_index(registry=registry, path=cache)
    assert online.cached_because is None and len(online.releases) == 9
    assert json.loads(cache.read_text())["fetched_at"] == online.fetched_at
    offline = load_index(registry=DEAD, path=cache)
    assert offline.releases == online.releases and offline.fetched_at == online.fetched_at
    assert offline.cached_because and f"cached at {online.fetched_at}" in offline.describe()


def test_offline_without_a_cache_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_index(registry=DEAD, path=tmp_path / "releases.json")
    assert "unreachable" in str(err.value) and "no release list is cached" in str(err.value)


def test_versions_command_online_then_offline(registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", registry)
    assert main(["versions", "--since", "0.142.0"]) == 0
    out, err = capsys.readouterr()
    rows = out.splitlines()
    assert rows[0].split()[:2] == ["version", "published"]
    assert [r.split()[0] for r in rows[1:]] == ["0.142.0", "0.142.1", "0.142.2", "0.143.0"]
    assert "0.142.0-linux-x64" in rows[1] and "none on npm" in rows[2]
    assert "fetched at" in err
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", DEAD)
    assert main(["versions", "--latest", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cached"] is True and [r["version"] for r in data["releases"]] == ["0.142.2", "0.143.0"]
    assert main(["versions", "--latest", "1"]) == 0
    assert "cached at" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "fragment"), [
    (["versions", "--latest", "0"], "--latest takes a whole number"),
    (["versions", "--since", "0.99"], "--since: '0.99' is not an X.Y.Z version"),
    (["list", "--versions", "0.143.0..0.117.0"], "is reversed"),
    (["list", "--versions", "latest-999"], "goes back past"),
    (["run", "--versions", "0.118.0..0.125.0"], "0.118.0 is not a stable release"),
])
def test_bad_input_exit_2_nothing_written(args: list[str], fragment: str, registry: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", registry)
    out = tmp_path / "out"
    assert main([*args, *(["--out", str(out)] if args[0] == "run" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and fragment in err and err.count("\n") == 1
    assert not out.exists()


def test_release_json_round_trip() -> None:
    r = Release("0.99.0", "2026-01-01T00:00:00Z", "0.99.0-linux-x64")
    assert Release.from_json(r.to_json()) == r
