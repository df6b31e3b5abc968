"""From the container's raw output to results.json, junit.xml and report.md, without Docker.

The raw files are written with the wall's own types (harness.suite.protocol), exactly as the contract
suite writes them inside a container.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.fingerprint import build_fingerprints, cell_fingerprint
from harness.matrix import Timeouts
from harness.redact import Redactor
from harness.report import render_markdown, write_junit, write_markdown
from harness.results import CellResult, RunResults, cell_status, now, write_results
from harness.run import JobEnd, RunOptions, harvest, plan_jobs
from harness.suite.facts import Facts
from harness.suite.protocol import (
    LOG_FILE,
    CellSpec,
    FinishLine,
    PlanLine,
    TestRecord,
    log_line,
    scenario_dir,
)

Cell = CellSpec
NATIVE = Cell("0.117.0", "codex-api-key", "persistent", ("ok", "hang"))
LEGACY = Cell("0.20.0", "none", "ephemeral", ("ok",), expect="legacy-fallback", expect_reason="old stream")


def _raw(tmp_path: Path, cells: list[Cell], tests: list[TestRecord], plan: dict[str, int] | None = None,
         finished: bool = True) -> Path:
    """A container's output dir: the suite log (plan, records, finish) and one cell's ok artifacts."""
    raw = tmp_path / "raw" / cells[0].version
    raw.mkdir(parents=True)
    if plan is None:
        plan = {c.id: sum(1 for t in tests if t.cell == c.id) for c in cells}
    lines = [PlanLine(plan), *tests, *([FinishLine(0)] if finished else [])]
    (raw / LOG_FILE).write_text("".join(log_line(x) for x in lines))
    facts = scenario_dir(raw, cells[0].id, "ok")
    facts.mkdir(parents=True)
    (facts / "facts.json").write_text(json.dumps(Facts(
        version_line=f"codex-cli {cells[0].version}", protocol="thread-events", flags=["--json"],
        event_types=["thread.started", "turn.completed"], usage_keys=["input_tokens"],
        journal_credentials=["valid"], session_files=1).to_json()))
    (facts / "resolver.json").write_text(json.dumps({"resolved": "codex-native", "native": {"state": "ready"}}))
    return raw


def test(cell: Cell, name: str, outcome: str, message: str = "") -> TestRecord:
    return TestRecord(cell=cell.id, name=name, scenario="ok", outcome=outcome, message=message, duration_s=0.5)


test.__test__ = False  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        (["pass", "pass"], "pass"),
        (["pass", "fail"], "fail"),
        (["pass", "error"], "error"),
        (["pass", "xfail"], "xfail"),
        (["pass", "xpass"], "fail"),  # a strict known regression that passed: "fixed: remove the rule"
        (["skip"], "skip"),
        ([], "error"),
    ],
)
def test_cell_status(outcomes: list[str], status: str) -> None:
    assert cell_status([TestRecord("c", f"t{i}", None, o) for i, o in enumerate(outcomes)]) == status


def test_harvest_reads_tests_fingerprint_and_resolver(tmp_path: Path) -> None:
    raw = _raw(tmp_path, [NATIVE], [test(NATIVE, "test_a[ok]", "pass"), test(NATIVE, "test_b[hang]", "xpass", "r")])
    [result] = harvest([NATIVE], raw, JobEnd(exit_code=1))
    assert result.status == "fail"
    assert result.fixed == ["test_b[hang]"]
    assert result.fingerprint["version_line"] == "codex-cli 0.117.0"
    assert result.fingerprint["api_saw"] == ["valid"]
    assert result.resolver == {"resolved": "codex-native", "native": {"state": "ready"}}


def test_suite_that_died_keeps_progress_and_marks_missing_cells(tmp_path: Path) -> None:
    other = Cell("0.117.0", "none", "persistent", ("ok",), expect="auth-required")
    raw = _raw(tmp_path, [NATIVE, other], [test(NATIVE, "test_a[ok]", "pass")], plan={NATIVE.id: 1, other.id: 2},
               finished=False)
    native, missing = harvest([NATIVE, other], raw, JobEnd(exit_code=137, log_tail="Killed"))
    assert native.status == "pass" and native.tests[0].name == "test_a[ok]"  # all its planned tests reported
    assert missing.status == "error" and "0 of 2 tests reported" in missing.message and "Killed" in missing.message
    assert missing.unfinished == "died" and native.unfinished is None


def test_cell_cut_short_is_never_a_pass(tmp_path: Path) -> None:
    tests = [test(NATIVE, "test_a[ok]", "pass"), test(NATIVE, "test_b[ok]", "xfail")]
    raw = _raw(tmp_path, [NATIVE], tests, plan={NATIVE.id: 5}, finished=False)
    [result] = harvest([NATIVE], raw, JobEnd())
    assert result.status == "error" and "2 of 5 tests reported" in result.message
    assert [t.name for t in result.tests] == ["test_a[ok]", "test_b[ok]"]  # what it did report is kept


@pytest.mark.parametrize(("planned", "status"), [(None, "timeout"), (3, "timeout"), (2, "xfail")])
def test_timed_out_container_turns_unfinished_cells_into_timeouts(tmp_path: Path, planned: int | None,
                                                                   status: str) -> None:
    tests = [test(NATIVE, "test_a[ok]", "pass"), test(NATIVE, "test_b[ok]", "xfail")]
    raw = _raw(tmp_path, [NATIVE], tests, plan={} if planned is None else {NATIVE.id: planned})
    [result] = harvest([NATIVE], raw, JobEnd(timed_out=True, log_tail="still running"))
    assert result.status == status


def test_interrupted_run_reports_unfinished_cells_and_is_not_ok(tmp_path: Path) -> None:
    raw = _raw(tmp_path, [NATIVE], [test(NATIVE, "test_a[ok]", "pass")], plan={NATIVE.id: 4}, finished=False)
    [result] = harvest([NATIVE], raw, JobEnd(interrupted=True))
    assert result.status == "error" and result.unfinished == "interrupted"
    results = RunResults(started=now(), duration_s=1.0, cells=[result], interrupted=True)
    assert not results.ok and results.to_json()["interrupted"] is True
    assert "**Interrupted: cells that had not finished are errors.**" in render_markdown(results)


def test_plan_jobs_groups_by_version_or_cell(tmp_path: Path) -> None:
    cells = [NATIVE, Cell("0.117.0", "none", "persistent", ("ok",)), LEGACY]
    images = {"0.117.0": "img:117", "0.20.0": "img:20"}
    by_version = plan_jobs(cells, images, RunOptions(out_dir=tmp_path, timeouts=Timeouts()))
    assert [(j.name, len(j.cells), j.image) for j in by_version] == [("codex0.117.0", 2, "img:117"),
                                                                       ("codex0.20.0", 1, "img:20")]
    by_cell = plan_jobs(cells, images, RunOptions(out_dir=tmp_path, timeouts=Timeouts(), isolation="cell"))
    assert [j.name for j in by_cell] == [c.id for c in cells]


def _results(tmp_path: Path) -> RunResults:
    native = harvest([NATIVE], _raw(tmp_path / "a", [NATIVE], [test(NATIVE, "test_a[ok]", "pass")]), JobEnd())
    legacy_tests = [test(LEGACY, "test_x[ok]", "fail", "boom sk-secretsecret123"),
                    test(LEGACY, "test_y[ok]", "xfail", "known (https://x/1)")]
    legacy = harvest([LEGACY], _raw(tmp_path / "b", [LEGACY], legacy_tests), JobEnd())
    return RunResults(started=now(), duration_s=12.0, cells=[*legacy, *native],
                      builds={"0.117.0": {"version_line": "codex-cli 0.117.0", "protocol": "thread-events"}})


def test_results_json_schema_and_exit_verdict(tmp_path: Path) -> None:
    results = _results(tmp_path)
    assert not results.ok
    path = write_results(results, tmp_path / "out")
    data = json.loads(path.read_text())
    assert data["schema"] == 1 and set(data) >= {"started", "duration_s", "cells", "summary"}
    cell = data["cells"][0]
    assert set(cell) >= {"id", "version", "credential", "policy", "status", "expected", "duration_s", "tests",
                         "fingerprint"}
    assert set(cell["tests"][0]) >= {"name", "outcome", "message"}
    assert set(cell["fingerprint"]) >= {"version_line", "protocol", "flags"}
    assert data["summary"]["fail"] == 1 and data["summary"]["pass"] == 1
    assert "sk-secretsecret123" not in path.read_text()


def test_markdown_grid_and_junit_properties(tmp_path: Path) -> None:
    results = _results(tmp_path)
    md = render_markdown(results)
    assert "| version | none / ephemeral | codex-api-key / persistent |" in md
    assert "| `0.20.0` | ❌ 1/2 legacy |  |" in md
    assert "test_x[ok]" in md and "## Known regressions (xfail)" in md and "## Build fingerprints" in md
    assert "## Backend resolution" in md and "ready → codex-native" in md
    out = tmp_path / "out"
    out.mkdir()
    redactor = Redactor()
    assert "sk-secretsecret123" not in write_markdown(results, out, redactor).read_text()
    junit = write_junit(results, out, redactor)
    assert "sk-secretsecret123" not in junit.read_text()
    suites = {s.get("name"): s for s in ET.parse(junit).getroot().iter("testsuite")}
    props = {p.get("name"): p.get("value") for p in suites[LEGACY.id].iter("property")}
    assert props["expected"] == "legacy-fallback" and props["status"] == "fail" and props["cell_id"] == LEGACY.id
    assert suites[LEGACY.id].get("failures") == "1" and suites[LEGACY.id].get("skipped") == "1"
    assert suites[NATIVE.id].get("failures") == "0" and suites[NATIVE.id].get("errors") == "0"


def test_build_fingerprint_takes_the_median_completed_ok_turn(tmp_path: Path) -> None:
    def cell(credential: str, status: str, wall: float) -> CellResult:
        facts = tmp_path / credential / "ok"
        facts.mkdir(parents=True)
        (facts / "facts.json").write_text(json.dumps(Facts(
            version_line="codex-cli 0.140.0", protocol="thread-events", thread_status=status, wall_s=wall).to_json()))
        return CellResult(cell=Cell("0.140.0", credential, "persistent", ("ok",)), status="pass",
                          fingerprint=cell_fingerprint(tmp_path / credential))

    cells = [cell("codex-api-key", "completed", 5.2), cell("auth-json", "completed", 5.9),
             cell("openai-api-key", "completed", 5.4), cell("none", "failed", 0.1)]
    builds = build_fingerprints(cells)
    assert builds["0.140.0"]["ok_turn_s"] == 5.4  # the failed turn of the `none` cell says nothing
    md = render_markdown(RunResults(started=now(), duration_s=1.0, cells=cells, builds=builds))
    assert "| ok turn s (median) |" in md and "| 5.4 |" in md


def test_cell_whose_tests_k_deselected_is_a_skip_not_an_error(tmp_path: Path) -> None:
    other = Cell("0.117.0", "none", "persistent", ("ok",), expect="auth-required")
    raw = _raw(tmp_path, [NATIVE, other], [test(NATIVE, "test_tool[ok]", "pass")], plan={NATIVE.id: 1, other.id: 0})
    native, deselected = harvest([NATIVE, other], raw, JobEnd(exit_code=0))
    assert native.status == "pass"
    assert deselected.status == "skip" and deselected.met and "pytest -k" in deselected.message
    # a suite that died before finishing never turns its cells into skips
    raw = _raw(tmp_path / "died", [other], [], plan={other.id: 0}, finished=False)
    [died] = harvest([other], raw, JobEnd(exit_code=137))
    assert died.status == "error"


def test_results_json_keeps_every_field_of_the_cell() -> None:
    """results.json's view of a cell is CellSpec's own (one shape): every field, set away from its default,
    comes back from a written results line, so a new axis cannot be forgotten there."""
    import dataclasses

    from harness.suite.protocol import KnownRegression

    cell = CellSpec("0.117.0", "auth-json", "ephemeral", ("ok", "tool"), expect="auth-rejected",
                    expect_reason="a reason", known={"tool": KnownRegression("race", tests=("test_x",))},
                    sandbox="workspace-write", lane="codex-sdk@0.163.0:provider")
    assert {f.name for f in dataclasses.fields(CellSpec)} <= {"version", "credential", "policy", "scenarios",
                                                              "expect", "expect_reason", "known", "sandbox", "lane"}
    tests = [TestRecord(cell.id, f"test_x[{s}]", s, "pass") for s in cell.scenarios]
    data = json.loads(json.dumps(CellResult(cell, "pass", tests=tests).to_json()))
    assert data["expected"] == "auth-rejected" and "xfail" in data and "scenarios" not in data
    assert CellResult.from_json(data).cell == cell
