"""A private, empty Docker daemon beside the machine's own: what a CI runner gets on every job.

    with private_dockerd(Path("/tmp/bench-docker")) as docker_host:
        ...  # DOCKER_HOST=docker_host talks to a daemon with no images and no containers

It has its own socket, data root, exec root (hence its own managed containerd) and pid file, no
bridge network and no iptables rules, so it touches nothing of the machine's daemon. Stopping it
(SIGTERM, then SIGKILL) unmounts what it left mounted and deletes its directories. Needs root and
``dockerd``; :func:`why_not` says why one cannot start here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def why_not() -> str | None:
    """None when a private dockerd can be started here, else the reason."""
    if os.geteuid() != 0:
        return "a private dockerd needs root"
    if not (shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/sbin")):
        return "dockerd is not installed"
    return None


def _answers(host: str) -> bool:
    import docker

    try:
        client = docker.DockerClient(base_url=host, timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextlib.contextmanager
def private_dockerd(root: Path) -> Iterator[str]:
    """Start a dockerd whose every file lives under ``root`` (created, then removed); yields its DOCKER_HOST."""
    reason = why_not()
    if reason:
        raise RuntimeError(reason)
    if root.exists():
        remove_tree(root)
    root.mkdir(parents=True)
    sock, log = root / "docker.sock", root / "dockerd.log"
    host = f"unix://{sock}"
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/sbin") or "dockerd"
    argv = [dockerd, "--host", host, "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
            "--pidfile", str(root / "docker.pid"), "--bridge", "none", "--iptables=false", "--ip6tables=false",
            "--ip-masq=false"]
    with log.open("wb") as log_fh:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(host):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace").splitlines()[-5:]
                raise RuntimeError(f"private dockerd did not answer at {host}: {' | '.join(tail)}")
            time.sleep(0.2)
        yield host
    finally:
        _stop(proc)
        remove_tree(root)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)  # dockerd stops its containers and its containerd itself
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def mounts_below(path: Path) -> list[str]:
    root = os.path.realpath(path)
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape") if len(fields) > 4 else ""
            if point == root or point.startswith(root + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def remove_tree(root: Path) -> None:
    """Unmount whatever the daemon left mounted below ``root`` (overlay, shm, netns), then delete it."""
    for point in mounts_below(root):
        subprocess.run(["umount", "-l", point], stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if mounts_below(root):
        raise RuntimeError(f"cannot unmount filesystems below {root}: unmount them, then delete it")
    shutil.rmtree(root, ignore_errors=True)
