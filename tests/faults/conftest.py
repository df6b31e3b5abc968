"""Fault injection: each test reproduces one finding of issue 18 (a careless user, a hostile mirror, a harsh
CI) against the real ``codex-matrix`` command in a subprocess.

``CODEX_MATRIX_FAULTS_TARGET=/path/to/checkout`` runs the same tests against another checkout's
``harness`` (e.g. the landed main, where they fail). Tests that need Docker are marked
``integration`` and skip without a daemon (never in CI); tests that mount a tmpfs need root.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UserError
from tests.run_containers import run_containers

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CODEX_MATRIX_FAULTS_TARGET", "") or ROOT).resolve()
SMALL = ["--versions", "0.117.0", "--credentials", "codex-api-key", "--policies", "ephemeral"]


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(TARGET)
    env.update(extra or {})
    return env


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``codex-matrix ARGS`` of the target checkout, as a user runs it; stdout and stderr captured."""
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd or TARGET, env=cli_env(env),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def start_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=cwd or TARGET, env=cli_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("codex-matrix: ")]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], fragment: str, code: int = 2) -> str:
    """Exit ``code``, no traceback, exactly one ``codex-matrix: error:`` line containing ``fragment``."""
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("codex-matrix: error: ")]
    assert len(errors) == 1, proc.stderr
    assert fragment in errors[0], errors[0]
    assert len(errors[0]) <= 400, errors[0]
    return errors[0]


@pytest.fixture(scope="session")
def docker_client() -> Any:
    from harness.docker_env import docker_client as connect

    try:
        return connect()
    except UserError as exc:
        if os.environ.get("CI"):
            raise  # CI must never silently skip the real-container tests
        pytest.skip(str(exc))


@pytest.fixture
def containers_of(docker_client: Any) -> Callable[[int], list[Any]]:
    """Run containers (any state) whose owner label is ``pid``: one run's containers, nobody else's."""
    return lambda pid: run_containers(docker_client, pid)


def process_alive(pid: int) -> bool:
    """A process that exists and is not a zombie (this machine's pid 1 may never reap orphans)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(check: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen[str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the command ended before {what}:\n{output}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``tmpfs(size="256k", ro=False)``: a fresh tmpfs mount (a full or read-only disk on demand); root only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(size: str = "256k", *, ro: bool = False, name: str = "") -> Path:
        point = tmp_path / (name or f"tmpfs{len(mounted)}")
        point.mkdir(parents=True, exist_ok=True)
        options = f"size={size}" + (",ro" if ro else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], check=True)
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(["umount", "-l", str(point)], check=True, capture_output=True)
