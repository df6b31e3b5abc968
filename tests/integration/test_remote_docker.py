"""A cell against a second Docker daemon on a TCP socket, named by DOCKER_HOST and by a docker context,
with bind mounts and with copies (what a daemon on another machine needs).

The test starts its own dockerd (root, Debian's docker.io) with a private data root, exec root and
pidfile, no bridge and no iptables rules, so the machine's own daemon is untouched; it loads the base
and 0.117.0 images into it (`docker save | docker -H … load`: no registry needed), runs one cell with
`--keep always`, and checks the container ran on the second daemon and not on the first. The daemon
and its directories are removed afterwards. Skips with the reason when a second daemon cannot start
here (not root, no dockerd); under CI=true, where both hold, a daemon that does not start fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import labels

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.117.0"
CELL = f"codex{VERSION}-codex-api-key-persistent"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _unmount_below(root: Path) -> None:
    """Mounts a dockerd left under its data/exec root (lazily unmounted, deepest first) before removal."""
    with open("/proc/mounts", encoding="utf-8") as fh:
        points = [line.split()[1] for line in fh if line.split()[1].startswith(str(root))]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


class SecondDaemon:
    def __init__(self, tmp: Path) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.port = _free_port()
        self.host = f"tcp://127.0.0.1:{self.port}"
        self.data_root = Path("/var/lib") / f"cnm-test-dockerd-{suffix}"
        self.exec_root = Path("/var/run") / f"cnm-test-dockerd-{suffix}"
        self.pidfile = Path("/var/run") / f"cnm-test-dockerd-{suffix}.pid"
        self.log = tmp / "dockerd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, dockerd: str) -> bool:
        argv = [dockerd, "--host", self.host, "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
                "--pidfile", str(self.pidfile), "--bridge", "none", "--iptables=false", "--ip6tables=false"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        for _ in range(60):
            if self.proc.poll() is not None:
                return False
            if self.docker("version", check=False).returncode == 0:
                return True
            time.sleep(1)
        return False

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True, timeout=300,
                              check=check)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        for root in (self.exec_root, self.data_root):
            _unmount_below(root)
            shutil.rmtree(root, ignore_errors=True)
        self.pidfile.unlink(missing_ok=True)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-5:]) if self.log.exists() else ""


@pytest.fixture(scope="module")
def second_daemon(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondDaemon]:
    dockerd = shutil.which("dockerd") or next((p for p in ("/usr/sbin/dockerd", "/sbin/dockerd")
                                               if os.access(p, os.X_OK)), None)
    if os.geteuid() != 0 or dockerd is None or shutil.which("docker") is None:
        pytest.skip("a second Docker daemon needs root, dockerd and the docker CLI (Debian's docker.io)")
    from harness.images import ensure_images
    from harness.images.recipes import base_recipe, base_tag

    tags = [base_tag(base_recipe()), ensure_images(docker_client, [VERSION])[VERSION]]
    daemon = SecondDaemon(tmp_path_factory.mktemp("dockerd"))
    try:
        if not daemon.start(dockerd):
            reason = f"a second dockerd did not start on {daemon.host}: {daemon.log_tail()}"
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
        save = subprocess.Popen(["docker", "save", *tags], stdout=subprocess.PIPE)
        load = subprocess.run(["docker", "-H", daemon.host, "load"], stdin=save.stdout, capture_output=True,
                              text=True, timeout=600, check=False)
        assert save.wait(timeout=60) == 0 and load.returncode == 0, load.stderr
        yield daemon
    finally:
        daemon.stop()


def _run(env: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "run", "--versions", VERSION, "--credentials", "codex-api-key",
         "--policies", "persistent", "--scenarios", "ok,tool", "--out", str(out), "--keep", "always"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)


def _run_containers(daemon: SecondDaemon) -> list[str]:
    proc = daemon.docker("ps", "-aq", "--filter", f"label={labels.KIND}=run")
    return proc.stdout.split()


def _check_cell_ran_there(daemon: SecondDaemon, docker_client: Any, proc: subprocess.CompletedProcess[str],
                          out: Path) -> None:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [cell] = json.loads((out / "results.json").read_text())["cells"]
    assert cell["id"] == CELL and cell["status"] == "pass"
    there = _run_containers(daemon)
    try:
        assert len(there) == 1  # kept on the second daemon ...
        names = daemon.docker("inspect", "--format", "{{.Name}}", there[0]).stdout.strip().lstrip("/")
        here = [c.name for c in docker_client.containers.list(all=True)]
        assert names not in here  # ... and never on this machine's own
    finally:
        if there:
            daemon.docker("rm", "-f", *there, check=False)


def test_docker_host_on_tcp(second_daemon: SecondDaemon, docker_client: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT",)}
    env["DOCKER_HOST"] = second_daemon.host
    _check_cell_ran_there(second_daemon, docker_client, _run(env, tmp_path / "out"), tmp_path / "out")


def test_docker_context(second_daemon: SecondDaemon, docker_client: Any, tmp_path: Path) -> None:
    config = tmp_path / "docker-config"  # a private CLI config: the user's contexts stay untouched
    config.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_CONFIG"] = str(config)
    subprocess.run(["docker", "context", "create", "cnm-second", "--docker", f"host={second_daemon.host}"],
                   env=env, capture_output=True, text=True, check=True, timeout=60)
    subprocess.run(["docker", "context", "use", "cnm-second"], env=env, capture_output=True, check=True, timeout=60)
    _check_cell_ran_there(second_daemon, docker_client, _run(env, tmp_path / "out"), tmp_path / "out")


def test_copy_mode_needs_no_shared_paths(second_daemon: SecondDaemon, docker_client: Any, tmp_path: Path) -> None:
    """A daemon elsewhere cannot mount this machine's paths: with copies the cell's container has no mount."""
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}
    env.update(DOCKER_HOST=second_daemon.host, CODEX_MATRIX_TRANSFER="copy")
    proc = _run(env, tmp_path / "out")
    [kept] = _run_containers(second_daemon)
    mounts = second_daemon.docker("inspect", "--format", "{{json .Mounts}}", kept).stdout.strip()
    assert json.loads(mounts) == []
    _check_cell_ran_there(second_daemon, docker_client, proc, tmp_path / "out")
    facts = list((tmp_path / "out" / "raw").rglob("facts.json"))
    assert {f.parent.name for f in facts} == {"ok", "tool"}  # the artifacts came back


def test_the_atlas_copies_its_build_in_where_it_cannot_mount(second_daemon: SecondDaemon, tmp_path: Path) -> None:
    """The atlas runs a build without an image of its own: on a daemon elsewhere its tree is copied into
    the base image's container (0.21.0: no image for it on the second daemon, a 40 MB legacy tree)."""
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}
    env.update(DOCKER_HOST=second_daemon.host, CODEX_MATRIX_TRANSFER="copy")
    out = tmp_path / "atlas"
    proc = subprocess.run([sys.executable, "-m", "harness", "atlas", "--since", "0.21.0", "--until", "0.21.0",
                           "--cells", "compact", "--out", str(out), "--cache-dir", str(tmp_path / "cache")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [record] = [json.loads(line) for line in (out / "atlas.jsonl").read_text().splitlines()]
    assert record["status"] == "ok" and record["install"] == "mount", record["error"]
    assert record["fingerprint"]["version_line"] == "codex-cli 0.21.0"  # the copied build is what ran
    assert all(c["status"] in ("pass", "xfail") for c in record["cells"].values()), record["failures"]
    assert _run_containers(second_daemon) == []  # nothing left on the daemon elsewhere
