"""tox: a bare `tox` runs the unit tests only, `tox -m matrix` every matrix.yaml build, and `tox -e codexX.Y.Z`
any published build (toxfile.py), with the arguments after `--` handed to `codex-matrix run`."""

from __future__ import annotations

import configparser
import fnmatch
import re
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


#: CODEX_MATRIX_* names in harness/ that no codex-matrix process reads: the workflow's install command
#: (harness/ci/github.py writes it into the workflow; the CI job's shell reads it).
NOT_READ_BY_THE_CODE = {"CODEX_MATRIX_INSTALL"}


def _variables_the_code_reads() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "harness").rglob("*.py"):
        names |= set(re.findall(r"\bCODEX_MATRIX_[A-Z0-9_]+\b", path.read_text(encoding="utf-8")))
    return names - NOT_READ_BY_THE_CODE


def test_tox_passes_every_codex_matrix_variable_the_code_reads() -> None:
    """tox runs commands in a clean environment: a setting it drops is silently ignored (issue 25)."""
    passed = _tox()["testenv"]["pass_env"].split()
    read = _variables_the_code_reads()
    assert {"CODEX_MATRIX_CACHE", "CODEX_MATRIX_TRANSFER"} <= read  # the scan finds what it must
    missing = sorted(v for v in read if not any(fnmatch.fnmatchcase(v, p) for p in passed))
    assert not missing, f"add {', '.join(missing)} to [testenv] pass_env in tox.ini"
    stale = sorted(p for p in passed if p.startswith("CODEX_MATRIX_") and not fnmatch.filter(read, p))
    assert not stale, f"tox.ini passes {', '.join(stale)}, which nothing in harness/ reads: remove it"
