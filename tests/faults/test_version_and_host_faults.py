"""Findings 8 and 12: a prerelease build, a non-UTF-8 console, a closed pipe, SIGTERM during debootstrap."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import SMALL, TARGET, cli, cli_env, process_alive, start_cli, wait_for
from tests.faults.hostile_registry import serve

PRERELEASE = "0.128.0-alpha.1"


@pytest.mark.integration
def test_a_prerelease_runs_wherever_fetch_accepts_it(docker_client: Any, tmp_path: Path) -> None:
    """Finding 8: `run --versions 0.128.0-alpha.1` said '0.128.0a1' is not a codex-cli version while
    `fetch 0.128.0-alpha.1` worked. A local registry serves a stand-in build (it only knows --version),
    so the run gets through fetch, image build and a container, and its cell misses its expectation."""
    from harness import labels

    cache = tmp_path / "cache"
    out = tmp_path / "out"
    with serve() as registry:
        registry.publish_codex(PRERELEASE)
        env = {"NPM_CONFIG_REGISTRY": registry.url}
        try:
            fetched = cli("fetch", PRERELEASE, "--cache-dir", str(cache), env=env)
            assert fetched.returncode == 0, fetched.stderr
            assert fetched.stdout.split("\t")[0] == PRERELEASE
            proc = cli("run", "--versions", PRERELEASE, "--credentials", "none", "--policies", "persistent",
                       "--scenarios", "ok", "--cache-dir", str(cache), "--out", str(out), "--keep", "never", env=env)
        finally:  # a stand-in image must never be found again by a real run of this version
            for image in docker_client.images.list(filters={"label": f"{labels.VERSION}={PRERELEASE}"}):
                for tag in image.tags:
                    with contextlib.suppress(Exception):
                        docker_client.images.remove(tag)
    assert "is not a codex-cli version" not in proc.stderr and "0.128.0a1" not in proc.stderr
    assert proc.returncode == 1, proc.stderr[-3000:]
    [cell] = json.loads((out / "results.json").read_text())["cells"]
    assert cell["id"] == f"codex{PRERELEASE}-none-persistent" and cell["version"] == PRERELEASE
    assert cell["tests"], "the contract suite ran against the prerelease build"


def test_a_closed_pipe_ends_quietly() -> None:
    """Finding 12: `list | head` ended in a BrokenPipeError traceback."""
    proc = subprocess.run(f"{sys.executable} -m harness list --format json | head -c 10 >/dev/null",
                          shell=True, cwd=TARGET, env=cli_env(), capture_output=True, text=True, check=False)
    assert proc.stderr == "", proc.stderr


@pytest.mark.integration
def test_a_non_utf8_console_does_not_fail_an_all_pass_run(docker_client: Any, tmp_path: Path) -> None:
    """Finding 12: a non-UTF-8 stdout made an all-pass run fail (the grid's ✅ could not be encoded)."""
    out = tmp_path / "out"
    proc = cli("run", *SMALL, "--scenarios", "ok", "--out", str(out),
               env={"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "every cell met its expectation" in proc.stdout
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert json.loads((out / "results.json").read_text())["cells"][0]["status"] == "pass"


FAKE_DEBOOTSTRAP = """#!/bin/sh
# stands in for debootstrap: fills the target like a real one would, then takes its time
suite=""; target=""
for arg; do
  case "$arg" in --*) ;; *) if [ -z "$suite" ]; then suite="$arg"; elif [ -z "$target" ]; then target="$arg"; fi ;; esac
done
mkdir -p "$target/usr/lib" && head -c 20000000 /dev/zero > "$target/usr/lib/big.so"
echo "I: Retrieving libc6 2.36-9"
echo $$ > "{pidfile}"
exec sleep 300
"""


@pytest.mark.integration
def test_sigterm_during_debootstrap_leaves_no_rootfs(docker_client: Any, tmp_path: Path) -> None:
    """Finding 12: SIGTERM during debootstrap left a 90 MB .rootfs-<pid> until the next build."""
    if os.geteuid() != 0:
        pytest.skip("the offline base image path needs root (debootstrap)")
    recipes = tmp_path / "containers"
    shutil.copytree(TARGET / "containers", recipes)
    with (recipes / "base" / "debootstrap.conf").open("a") as fh:
        fh.write(f"# fault test {tmp_path.name}: a base recipe no image exists for\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    pidfile = tmp_path / "debootstrap.pid"
    fake = bindir / "debootstrap"
    fake.write_text(FAKE_DEBOOTSTRAP.replace("{pidfile}", str(pidfile)))
    fake.chmod(0o755)
    cache = tmp_path / "cache"
    env = {"CODEX_MATRIX_CONTAINERS": str(recipes), "PATH": f"{bindir}:{os.environ['PATH']}"}
    build = start_cli("build", "--versions", "0.117.0", "--cache-dir", str(cache), env=env)
    try:
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), 120, "debootstrap to start", build)
        assert list(cache.glob(".rootfs-*/usr/lib/big.so")), "the rootfs is being filled"
        build.send_signal(signal.SIGTERM)
        output, _ = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 130, output[-2000:]
    assert "Traceback" not in output
    assert list(cache.glob(".rootfs-*")) == []
    wait_for(lambda: not process_alive(int(pidfile.read_text())), 10, "debootstrap to be killed")
