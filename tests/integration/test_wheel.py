"""The built wheel is a working tool on its own: a fresh venv, an empty directory, no checkout.

It must carry the default matrix, the image recipes and the contract suite (harness/assets.py), and
run a real cell in a real container from there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``codex-matrix`` from a wheel built now, installed into a new venv."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = (work / "dist").glob("*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    subprocess.run([str(work / "venv/bin/python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True)
    return work / "venv/bin/codex-matrix"


def _cli(exe: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=900, check=False,
                          stdin=subprocess.DEVNULL)


def test_wheel_works_outside_the_checkout(installed: Path, tmp_path: Path, docker_client: object) -> None:
    version = _cli(installed, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("codex-matrix "), version.stderr
    listed = _cli(installed, tmp_path, "list", "--versions", "0.117.0", "--credentials", "codex-api-key")
    assert listed.stdout.split() == ["codex0.117.0-codex-api-key-ephemeral", "codex0.117.0-codex-api-key-persistent"]
    assert _cli(installed, tmp_path, "init").returncode == 0
    assert "versions:" in (tmp_path / "matrix.yaml").read_text()
    assert _cli(installed, tmp_path, "init").returncode == 2  # never overwrites without --force
    run = _cli(installed, tmp_path, "run", "--versions", "0.117.0", "--credentials", "codex-api-key",
               "--scenarios", "ok")
    assert run.returncode == 0, run.stderr[-2000:]
    cells = json.loads((tmp_path / "out" / "results.json").read_text())["cells"]
    assert {c["id"]: c["status"] for c in cells} == {
        "codex0.117.0-codex-api-key-ephemeral": "pass", "codex0.117.0-codex-api-key-persistent": "pass"}
    assert "report.html" in run.stdout and (tmp_path / "out" / "report.html").stat().st_size > 0  # its CSS/JS ship
    workflow = _cli(installed, tmp_path, "ci", "github")
    assert workflow.returncode == 0 and workflow.stdout == (ROOT / ".github/workflows/matrix.yml").read_text()
