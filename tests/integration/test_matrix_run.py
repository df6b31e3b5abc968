"""The main job end to end: three real codex builds in real containers, through the real CLI.

0.20.0 (legacy stream) and 0.117.0 (thread events, --ephemeral) cover both protocol eras; 0.42.0 is
the late legacy build that exits on errors and ignores an env key (only auth.json reaches the API). The
credential axis includes `none` so the auth-required path runs too. Asserts on the files a user reads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ("0.20.0", "0.42.0", "0.117.0")


@pytest.fixture(scope="module")
def run_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], int]:
    out = tmp_path_factory.mktemp("out")
    argv = [sys.executable, "-m", "harness", "run", "--versions", ",".join(VERSIONS),
            "--credentials", "codex-api-key,none", "--out", str(out), "--keep", "never", "-j", "2"]
    with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as popen:
        stdout, stderr = popen.communicate(timeout=1800)
    proc = subprocess.CompletedProcess(argv, popen.returncode, stdout, stderr)
    return out, proc, popen.pid


def test_run_exits_zero_and_every_cell_meets_expectation(run_output) -> None:  # type: ignore[no-untyped-def]
    out, proc, _ = run_output
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["schema"] == 1
    cells = {c["id"]: c for c in results["cells"]}
    assert len(cells) == len(VERSIONS) * 2 * 2
    assert all(c["status"] in ("pass", "xfail") for c in cells.values()), {
        k: (c["status"], [t for t in c["tests"] if t["outcome"] in ("fail", "error")]) for k, c in cells.items()
    }
    assert results["summary"]["fail"] == 0


def test_legacy_build_reported_as_legacy(run_output) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = run_output
    cells = {c["id"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    legacy = cells["codex0.20.0-codex-api-key-persistent"]
    assert legacy["expected"] == "legacy-fallback"
    assert legacy["fingerprint"]["protocol"] == "legacy"
    assert legacy["fingerprint"]["version_line"] == "codex-cli 0.20.0"
    native = cells["codex0.117.0-codex-api-key-ephemeral"]
    assert native["expected"] == "native"
    assert native["fingerprint"]["protocol"] == "thread-events"
    assert "--ephemeral" in native["fingerprint"]["flags"]
    names = {t["name"] for t in native["tests"]}
    assert {"test_event_grammar[ok]", "test_scenario_outcome[hang]", "test_zero_dropped_rows[tool]"} <= names


def test_reports_written_without_secrets(run_output) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = run_output
    report = (out / "report.md").read_text()
    assert "| `0.117.0` |" in report and "## Build fingerprints" in report
    junit = (out / "junit.xml").read_text()
    assert 'name="codex0.117.0-codex-api-key-persistent"' in junit
    assert '<property name="credential" value="none"' in junit
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "sk-matrix-" not in text, f"secret-shaped key in {path}"


def test_no_containers_left_behind(run_output, run_containers) -> None:  # type: ignore[no-untyped-def]
    _, _, pid = run_output  # this run's containers only: other runs may share the daemon
    assert [c.name for c in run_containers(pid)] == []
