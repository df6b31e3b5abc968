"""Findings 6 and 7: a Docker daemon that dies mid-run, and a harness killed with SIGKILL.

The daemon's death is a proxy socket (:mod:`tests.faults.dockerproxy`) that the harness talks
through and that is killed mid-run: the harness loses its daemon, its container lives on in the real
daemon, as after a dockerd crash. A second private dockerd would need its own containerd, data root
and copies of the images (~300 MB per build); the proxy gives the same view from the harness's side
in a second and disturbs no one else's containers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import ROOT, SMALL, cli, start_cli, wait_for

pytestmark = pytest.mark.integration


def tree(root: Path) -> list[tuple[str, bytes]]:
    return sorted((p.relative_to(root).as_posix(), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*"))


def suite_running(container: Any) -> bool:
    try:
        processes = container.top().get("Processes") or []
    except Exception:  # gone
        return False
    return any("pytest" in " ".join(row) for row in processes)


def _suite_started(out: Path) -> bool:
    return any(p.stat().st_size > 0 for p in out.glob(".live/*/*/suite-log.jsonl"))


@pytest.fixture
def cleanup(docker_client: Any) -> Any:
    """Containers a test orphaned on purpose are removed even when it fails."""
    pids: list[int] = []
    yield pids
    from harness import labels

    for pid in pids:
        for row in docker_client.api.containers(all=True, filters={"label": f"{labels.OWNER_PID}={pid}"}):
            with contextlib.suppress(Exception):
                docker_client.api.remove_container(row["Id"], force=True)


def test_a_dead_daemon_gives_a_truthful_report_and_an_orphan_cannot_change_it(
        docker_client: Any, tmp_path: Path, containers_of: Any, cleanup: list[int]) -> None:
    """Finding 6: the console offered a "docker exec" line on a dead daemon, and the orphaned container later
    finished and wrote passing results into out/raw, contradicting out/results.json."""
    sock = tmp_path / "docker.sock"
    proxy = subprocess.Popen([sys.executable, "-m", "tests.faults.dockerproxy", str(sock), "/var/run/docker.sock"],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_for(sock.exists, 10, "the proxy socket")
        out = tmp_path / "out"
        run = start_cli("run", *SMALL, "--out", str(out), env={"DOCKER_HOST": f"unix://{sock}"})
        cleanup.append(run.pid)
        wait_for(lambda: _suite_started(out), 300, "the contract suite to start", run)
        [container] = containers_of(run.pid)
        proxy.kill()  # the daemon is gone, as far as the harness can tell
        proxy.wait()
        output, _ = run.communicate(timeout=300)
    finally:
        if proxy.poll() is None:
            proxy.kill()
    assert run.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "docker exec" not in output and "kept container" not in output, output[-3000:]
    assert "could not be removed: the Docker daemon stopped answering" in output, output[-3000:]
    results_text = (out / "results.json").read_text()
    [cell] = json.loads(results_text)["cells"]
    assert cell["status"] == "error" and cell["unfinished"] == "died", cell["message"]
    raw = tree(out / "raw")
    assert raw, "the cell's raw files were kept"
    orphaned_while_running = suite_running(container)
    # the orphan runs on: give its suite every chance to finish and write
    wait_for(lambda: not suite_running(container), 120, "the orphan's suite to end")
    assert orphaned_while_running, "the orphan's suite had ended before the report was written: nothing proven"
    assert tree(out / "raw") == raw
    assert (out / "results.json").read_text() == results_text
    assert not any((out / ".live").rglob("*.json")) if (out / ".live").exists() else True
    # the next command, with the daemon back, removes the orphan at once and says so
    nxt = cli("build", "--versions", "0.117.0")
    assert nxt.returncode == 0, nxt.stderr[-2000:]
    assert f"removed 1 run container whose codex-matrix run is gone (pid {run.pid} on " in nxt.stderr, nxt.stderr
    assert containers_of(run.pid) == []


def _matrix(tmp_path: Path, container_s: int) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(f"versions: [0.117.0]\ncredentials: [codex-api-key]\npolicies: [ephemeral]\n"
                    f"timeouts: {{container_s: {container_s}}}\n")
    return path


def _start_and_kill(tmp_path: Path, containers_of: Any, cleanup: list[int]) -> tuple[int, Any]:
    """A real run killed with SIGKILL while its suite runs; returns its pid and its container."""
    out = tmp_path / "out"
    run = start_cli("run", "--matrix", str(_matrix(tmp_path, 10)), "--out", str(out))
    cleanup.append(run.pid)
    wait_for(lambda: _suite_started(out), 300, "the contract suite to start", run)
    [container] = containers_of(run.pid)
    run.send_signal(signal.SIGKILL)
    run.wait()
    return run.pid, container


@pytest.mark.slow
def test_after_sigkill_the_containers_end_by_their_deadline_with_no_other_command(
        docker_client: Any, tmp_path: Path, containers_of: Any, cleanup: list[int]) -> None:
    """Finding 7: after SIGKILL (OOM killer, CI hard cancel) its containers ran `sleep infinity` until someone
    ran `prune`."""
    from harness import labels

    pid, container = _start_and_kill(tmp_path, containers_of, cleanup)
    deadline = datetime.strptime(container.labels[labels.DEADLINE], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    left = (deadline - datetime.now(UTC)).total_seconds()
    assert left < 10 + 60 + 5, f"deadline {left:.0f} s away: not container_s (10) + the 60 s margin"
    # gone by the deadline, plus a little for Docker's auto-remove once the container's sleep ended
    wait_for(lambda: containers_of(pid) == [], left + 15, "the orphan to end by itself")


def test_after_sigkill_the_next_run_removes_the_orphans_at_once_and_says_so(
        docker_client: Any, tmp_path: Path, containers_of: Any, cleanup: list[int]) -> None:
    """Finding 7: the next `run` neither removed nor mentioned a killed run's containers."""
    pid, container = _start_and_kill(tmp_path, containers_of, cleanup)
    assert containers_of(pid), "the orphan is still there before the next command"
    started = time.monotonic()
    nxt = cli("run", *SMALL, "--scenarios", "ok", "--out", str(tmp_path / "next"))
    assert nxt.returncode == 0, nxt.stderr[-2000:]
    lines = [line for line in nxt.stderr.splitlines() if "whose codex-matrix run is gone" in line]
    assert len(lines) == 1 and f"(pid {pid} on " in lines[0] and container.name in lines[0], nxt.stderr
    assert containers_of(pid) == []
    assert time.monotonic() - started < 120
