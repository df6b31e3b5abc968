"""tox: a bare `tox` runs the unit tests only, `tox -m matrix` every matrix.yaml build, and `tox -e codexX.Y.Z`
any published build (toxfile.py), with the arguments after `--` handed to `codex-matrix run`."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from harness.matrix import load_matrix
from harness.toxgen import tox_envs

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import toxfile  # noqa: E402  (the plugin module, as tox imports it from the project root)


def _tox() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    return parser


def test_bare_tox_runs_only_the_unit_env() -> None:
    assert [e.strip() for e in _tox()["tox"]["env_list"].split(",")] == ["unit"]


def test_matrix_label_runs_every_build() -> None:
    labels = _tox()["tox"]["labels"].strip()
    name, _, envs = labels.partition("=")
    assert name.strip() == "matrix"
    assert [e.strip() for e in envs.split(",")] == tox_envs(load_matrix().versions), (
        "tox.ini's matrix label disagrees with matrix.yaml: paste `codex-matrix list --format tox`"
    )


def test_plugin_takes_only_codex_version_names() -> None:
    assert toxfile.codex_envs(["codex0.150.0", "unit", "codex0.150.0", "py311", "codex0.99.0-alpha.3",
                               "codex0.117", "codexlatest"]) == ["codex0.150.0", "codex0.99.0-alpha.3"]


def _tox_config(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tox", "config", "-q", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_any_build_is_an_env_and_posargs_reach_the_run() -> None:
    versions = ("0.150.0", "0.169.0")  # one outside matrix.yaml, one in it
    proc = _tox_config("-e", ",".join(f"codex{v}" for v in versions), "-k", "commands",
                       "--", "--credentials", "none", "-k", "test_tool")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for version in versions:
        assert (f"commands = codex-matrix run --versions codex{version} --out {ROOT}/out/codex{version} "
                "--credentials none -k test_tool") in proc.stdout


def test_unknown_env_names_are_still_refused() -> None:
    proc = _tox_config("-e", "codexlatest", "-k", "commands")
    assert proc.returncode != 0 and "codexlatest" in proc.stdout + proc.stderr
