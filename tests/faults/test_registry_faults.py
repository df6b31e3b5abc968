"""Finding 11 (and 9, 12): hostile mirrors, a lock someone else holds, a full or read-only build cache, and the
``--version`` probe of a downloaded binary. A local registry misbehaves on demand; no Docker needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import assert_one_line_error, cli, process_alive, start_cli, wait_for
from tests.faults.hostile_registry import HostileRegistry, serve

VERSION = "0.117.0"


@pytest.fixture
def registry() -> Iterator[HostileRegistry]:
    with serve() as state:
        state.publish_codex(VERSION)
        yield state


def fetch(registry: HostileRegistry, cache: Path, *extra: str, env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cli("fetch", VERSION, "--cache-dir", str(cache), "--registry", registry.url, *extra, env=env,
               timeout=timeout)


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name != ".locks") if cache.exists() else []


def test_a_trickling_mirror_hits_the_download_deadline(registry: HostileRegistry, tmp_path: Path) -> None:
    """Finding 11: one byte every 0.5 s kept `fetch` going for over 10 minutes."""
    registry.mode["tarball"] = "trickle"
    started = time.monotonic()
    proc = fetch(registry, tmp_path / "cache", env={"CODEX_MATRIX_DOWNLOAD_TIMEOUT": "3"}, timeout=90)
    took = time.monotonic() - started
    line = assert_one_line_error(proc, "took longer than 3 s")
    assert "CODEX_MATRIX_DOWNLOAD_TIMEOUT" in line
    assert took < 30, f"took {took:.0f} s"
    assert leftovers(tmp_path / "cache") == []


def test_a_trickling_package_list_hits_the_deadline_too(registry: HostileRegistry, tmp_path: Path) -> None:
    registry.mode["packument"] = "trickle"
    proc = fetch(registry, tmp_path / "cache", env={"CODEX_MATRIX_DOWNLOAD_TIMEOUT": "2"}, timeout=90)
    assert_one_line_error(proc, "reading the package list")


def test_a_connection_cut_short_is_not_called_tampering(registry: HostileRegistry, tmp_path: Path) -> None:
    """Finding 11: a short read was reported as "corrupt or tampered"."""
    registry.mode["tarball"] = "short"
    line = assert_one_line_error(fetch(registry, tmp_path / "cache"), "the connection was cut short")
    assert "tampered" not in line and "integrity" not in line
    assert leftovers(tmp_path / "cache") == []


@pytest.mark.parametrize("mode", ["html", "garbage"])
def test_an_answer_that_is_not_json_is_not_called_unreachable(registry: HostileRegistry, tmp_path: Path,
                                                              mode: str) -> None:
    """Finding 11: an HTML or non-JSON answer was reported as "unreachable"."""
    registry.mode["packument"] = mode
    line = assert_one_line_error(fetch(registry, tmp_path / "cache"), "something that is not JSON")
    assert "unreachable" not in line
    if mode == "html":
        assert "text/html" in line and "login page" in line


def test_a_waiting_fetch_says_who_holds_the_lock(registry: HostileRegistry, tmp_path: Path) -> None:
    """Finding 11: a second fetch of the same build waited on the lock without a word."""
    registry.mode["tarball"] = "hold"
    registry.hold_s = 15.0  # long enough that a loaded machine still finds the first fetch holding the lock
    cache = tmp_path / "cache"
    first = start_cli("fetch", VERSION, "--cache-dir", str(cache), "--registry", registry.url)
    try:
        lock = cache / ".locks" / VERSION
        wait_for(lambda: lock.is_file() and f'"pid": {first.pid}' in lock.read_text(), 30, "the first fetch's lock",
                 first)
        second = fetch(registry, cache)
        assert second.returncode == 0, second.stderr
        assert f"waiting for codex-cli {VERSION} in the build cache: `codex-matrix fetch`, pid {first.pid} on " \
            in second.stderr, second.stderr
        assert first.wait(60) == 0
    finally:
        if first.poll() is None:
            first.kill()


def test_a_full_build_cache_during_unpacking_is_one_line(tmpfs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Finding 9: a cache disk that fills up while the tarball is unpacked gave a traceback."""
    cache = tmpfs("1m")
    with serve() as state:
        state.publish_codex(VERSION, padding=4 << 20)  # 4 MB of zeros: a tiny tarball, a big tree
        proc = cli("fetch", VERSION, "--cache-dir", str(cache), "--registry", state.url)
    line = assert_one_line_error(proc, "No space left on device")
    assert f"the build cache {cache}" in line and "--cache-dir" in line
    assert leftovers(cache) == []


def test_a_read_only_build_cache_is_one_line(tmpfs, registry: HostileRegistry) -> None:  # type: ignore[no-untyped-def]
    """Finding 9: a read-only --cache-dir gave a traceback."""
    cache = tmpfs("1m", ro=True)
    line = assert_one_line_error(fetch(registry, cache), "Read-only file system")
    assert "--cache-dir" in line


def test_the_version_probe_cannot_hang_fetch_or_leak_its_home(tmp_path: Path) -> None:
    """Finding 12: a binary that leaves a child holding stdout hung `fetch` and leaked a codex-home-* dir;
    the probe also saw the caller's whole environment (API keys included)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    pidfile, escapee, envfile = tmp_path / "child.pid", tmp_path / "escapee.pid", tmp_path / "env.txt"
    # a child that keeps stdout open, one that escapes the process group, and a look at the environment
    extra = (f"env > {envfile}\n(sleep 300 & echo $! > {pidfile}; wait) &\n"
             f"setsid sh -c 'echo $$ > {escapee}; exec sleep 300' &\n"
             f"while [ ! -s {pidfile} ] || [ ! -s {escapee} ]; do sleep 0.01; done\n")
    with serve() as state:
        state.publish_codex(VERSION, extra=extra)
        started = time.monotonic()
        proc = cli("fetch", VERSION, "--cache-dir", str(tmp_path / "cache"), "--registry", state.url,
                   env={"TMPDIR": str(tmp), "OPENAI_API_KEY": "sk-secret-of-the-caller"}, timeout=120)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert f"codex-cli {VERSION}" in proc.stdout
    assert took < 20, f"fetch took {took:.0f} s: the probe waited for a child holding its stdout"
    assert list(tmp.glob("codex-home-*")) == []
    child = int(wait_for(lambda: pidfile.read_text().strip() if pidfile.exists() else "", 5, "the child pid"))
    wait_for(lambda: not process_alive(child), 5, "the probe's child to be killed with its process group")
    assert "sk-secret-of-the-caller" not in envfile.read_text()
    # a child that left the group on purpose is out of reach, but it no longer holds fetch up; end it here
    os.kill(int(wait_for(lambda: escapee.read_text().strip() if escapee.exists() else "", 5, "the escapee")),
            signal.SIGKILL)


def test_sigterm_during_fetch_leaves_no_scratch_dir(registry: HostileRegistry, tmp_path: Path) -> None:
    """A cancelled CI job's SIGTERM mid-download: the partial tarball and its scratch dir go at once."""
    registry.mode["tarball"] = "trickle"
    cache = tmp_path / "cache"
    proc = start_cli("fetch", VERSION, "--cache-dir", str(cache), "--registry", registry.url)
    wait_for(lambda: any(cache.glob(".tmp-*/package.tgz")), 30, "the download to start", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 130
    assert leftovers(cache) == []
