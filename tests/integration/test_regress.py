"""From a red cell to the release that broke it, with real builds in real containers, through the real CLI:
`run --rerun-failed`, `repro` and its replay from an empty build cache, `repro --shell`, `diff` of two
versions, and `bisect --expect native`, whose answer (0.99.0 first holds an ephemeral cell's native
contract: `--ephemeral` arrived in 0.99.0) is known. Selections are small: a few cells, the `ok` scenario.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.bisect import step_bound

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, stdin: str | None = None,
        timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, input=stdin, env={**os.environ, **(env or {})})


@pytest.fixture
def ours(docker_client) -> Callable[[], dict[str, str]]:  # type: ignore[no-untyped-def]
    """This checkout's project containers (they mount its harness/; other checkouts share the daemon): id → state.

    Read from one list call (no per-container inspect), so a container another run removes meanwhile is no error.
    """
    from harness import labels

    package = str(ROOT / "harness")

    def listing() -> dict[str, str]:
        found = docker_client.api.containers(all=True, filters={"label": f"{labels.MANAGED}=true"})
        return {c["Id"]: c.get("State", "") for c in found
                if any(m.get("Source") == package for m in c.get("Mounts") or [])}

    return listing


@pytest.fixture
def no_leak(ours: Callable[[], dict[str, str]]) -> Any:
    """Fails the test when it leaves one of this checkout's containers behind (ones from before excepted)."""
    before = set(ours())
    yield
    assert set(ours()) - before == set()


def test_rerun_failed_reruns_exactly_the_missed_cell(tmp_path: Path, no_leak: None) -> None:
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(
        "versions: [0.117.0]\ncredentials: [codex-api-key, none]\npolicies: [persistent]\nscenarios: [ok]\n"
        "expectations:\n"
        "  - when: {credentials: [none]}\n"
        "    expect: native  # wrong on purpose: without a credential the cell cannot hold the native contract\n"
        "    reason: deliberately wrong, so that this cell misses\n")
    out = tmp_path / "out"
    first = cli("run", "--matrix", str(matrix), "--out", str(out), "--keep", "never")
    assert first.returncode == 1, first.stderr[-3000:]
    cells = {c["id"]: c["status"] for c in json.loads((out / "results.json").read_text())["cells"]}
    assert cells == {"codex0.117.0-codex-api-key-persistent": "pass", "codex0.117.0-none-persistent": "fail"}
    assert "codex-matrix repro codex0.117.0-none-persistent --scenario ok" in (out / "report.md").read_text()
    again = cli("run", "--matrix", str(matrix), "--out", str(out), "--keep", "never", "--rerun-failed")
    assert again.returncode == 1, again.stderr[-3000:]
    assert "rerunning 1 cells that missed their expectation" in again.stderr
    rerun = json.loads((out / "results.json").read_text())["cells"]
    assert [(c["id"], c["status"]) for c in rerun] == [("codex0.117.0-none-persistent", "fail")]


def test_repro_then_replay_from_the_bundle_with_an_empty_build_cache(tmp_path: Path, no_leak: None) -> None:
    cell = "codex0.117.0-codex-api-key-persistent"
    made = cli("repro", cell, "--scenario", "ok", "--matrix", str(ROOT / "matrix.yaml"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-3000:]
    bundle = tmp_path / f"{cell}.repro.json"
    assert [p.name for p in tmp_path.iterdir()] == [bundle.name]  # one file, nothing else kept
    data = json.loads(bundle.read_text())
    assert data["outcome"]["status"] == "pass" and data["build"]["version_line"] == "codex-cli 0.117.0"
    assert data["image"]["id"].startswith("sha256:") and data["scenarios"]["ok"]["journal"]
    assert "sk-matrix-" not in bundle.read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replay = cli("repro", "--bundle", str(bundle), cwd=elsewhere, env={"CODEX_MATRIX_CACHE": str(tmp_path / "cache")})
    assert replay.returncode == 0, replay.stdout + replay.stderr[-3000:]
    assert "integrity and binary sha256 match the bundle" in replay.stderr
    assert "the outcome matches the bundle (pass" in replay.stdout
    assert (tmp_path / "cache" / "0.117.0" / "build.json").is_file()  # fetched again, not taken from the old cache
    assert list(elsewhere.iterdir()) == []


def test_repro_shell_runs_the_printed_codex_command(tmp_path: Path, no_leak: None) -> None:
    shell = cli("repro", "codex0.117.0-codex-api-key-ephemeral", "--scenario", "ok", "--shell", cwd=tmp_path,
                stdin='eval "$CNM_CODEX_COMMAND"; exit 3\n', timeout=300)
    assert shell.returncode == 3, shell.stdout + shell.stderr[-2000:]
    assert "--ephemeral" in shell.stdout and '"$CNM_FAKE_KEY"' in shell.stdout
    assert '"type":"turn.completed"' in shell.stdout  # the printed command reached the fake API and completed
    assert "sk-matrix-" not in shell.stdout


def test_diff_names_the_new_usage_key_and_the_new_flag(no_leak: None) -> None:
    usage = cli("diff", "0.117.0", "0.125.0", "--json")
    assert usage.returncode == 0, usage.stderr[-3000:]
    assert "reasoning_output_tokens" in json.loads(usage.stdout)["fingerprint"]["usage_keys"]["added"]
    flags = cli("diff", "0.98.0", "0.99.0", "--scenarios", "ok")
    assert flags.returncode == 0, flags.stderr[-3000:]
    assert "- **exec flags**: + `--ephemeral`" in flags.stdout


BISECT = ["bisect", "--good", "0.98.0", "--bad", "0.117.0", "--expect", "native", "--credentials", "codex-api-key",
          "--policies", "ephemeral", "--scenarios", "ok", "--terms", "refused,holds"]


def test_bisect_expect_native_finds_0_99_0_and_resumes(tmp_path: Path, no_leak: None) -> None:
    found = cli(*BISECT, "--out", str(tmp_path), "--json")
    assert found.returncode == 0, found.stderr[-3000:]
    summary = json.loads(found.stdout)
    assert (summary["first_new"], summary["last_old"]) == ("0.99.0", "0.98.0")
    assert summary["releases"] == 15 and summary["container_runs"] <= step_bound(15) == 6
    assert summary["links"]["compare"] == "https://github.com/openai/codex/compare/rust-v0.98.0...rust-v0.99.0"
    assert [s["verdict"] for s in summary["steps"][:2]] == ["old", "new"]  # both ends first
    again = cli(*BISECT, "--out", str(tmp_path))
    assert again.returncode == 0 and "0 container runs now" in again.stdout, again.stderr[-2000:]
    assert "first holds:  0.99.0" in again.stdout


def test_bisect_with_the_ends_the_wrong_way_round_is_refused(tmp_path: Path, no_leak: None) -> None:
    refused = cli("bisect", "--good", "0.98.0", "--bad", "0.117.0", "--expect", "native", "--credentials",
                  "codex-api-key", "--policies", "ephemeral", "--scenarios", "ok", "--out", str(tmp_path))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith(
        "codex-matrix: error: --good 0.98.0 is bad, not good: codex0.98.0-codex-api-key-ephemeral:")


def test_sigterm_stops_a_bisect_and_leaves_a_resumable_log(tmp_path: Path,
                                                            ours: Callable[[], dict[str, str]]) -> None:
    before = set(ours())
    proc = subprocess.Popen([sys.executable, "-m", "harness", *BISECT, "--out", str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 600
        while not [i for i, state in ours().items() if i not in before and state == "running"]:
            assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no bisect container started"
            time.sleep(0.3)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # the test failed before its own SIGTERM: still let the bisect clean up
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert proc.returncode == 130, output
    assert "the same command resumes from there" in output
    assert set(ours()) - before == set()
    lines = [json.loads(x) for x in (tmp_path / "bisect.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "start" and all(x["kind"] == "step" for x in lines[1:])
