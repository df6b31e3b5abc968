"""`diff A B` computed from fingerprints and test outcomes (no Docker: the sides come from results.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.diff import diff_sides, render_markdown, side_of
from harness.fingerprint import build_fingerprints, cell_fingerprint
from harness.results import CellResult, RunResults, now, write_results
from harness.run.oneshot import repeat_plans
from harness.run.plan import JobPlan
from harness.suite.facts import Facts
from harness.suite.protocol import CellSpec, TestRecord


def _build(version: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "version_line": f"codex-cli {version}", "protocol": "thread-events",
        "flags": ["--json", "--skip-git-repo-check", "--ephemeral"], "event_types": ["thread.started"],
        "item_types": ["agent_message"], "usage_keys": ["input_tokens", "cached_input_tokens", "output_tokens"],
        "tools_declared": ["shell"], "stderr": [], "session_files": {"ephemeral": 0, "persistent": 1},
        "credential_sources_honoured": ["codex-api-key"], "credential_sources_via_lane": ["codex-api-key"],
        "model_catalog": ["gpt-5"],
    }
    base.update(extra)
    return base


def _cells(version: str, outcomes: dict[str, str], expect: str = "native") -> list[CellResult]:
    cell = CellSpec(version, "codex-api-key", "ephemeral", ("ok", "tool"), expect=expect)
    tests = [TestRecord(cell.id, name, name.split("[")[1][:-1], outcome) for name, outcome in outcomes.items()]
    status = "fail" if "fail" in outcomes.values() else "pass"
    return [CellResult(cell, status, tests=tests)]


def _results() -> RunResults:
    old = _cells("0.117.0", {"test_a[ok]": "pass", "test_tool_round_trip[tool]": "pass"})
    new = _cells("0.125.0", {"test_a[ok]": "pass", "test_tool_round_trip[tool]": "fail"})
    builds = {
        "0.117.0": _build("0.117.0", stderr=["Reading prompt from stdin"]),
        "0.125.0": _build("0.125.0", usage_keys=["input_tokens", "cached_input_tokens", "output_tokens",
                                                 "reasoning_output_tokens"],
                          flags=["--json", "--skip-git-repo-check", "--ephemeral", "--ignore-rules"],
                          tools_declared=["exec_command"], session_files={"ephemeral": 0, "persistent": 2},
                          model_catalog=["gpt-5", "gpt-5.5"]),
    }
    return RunResults(started=now(), duration_s=1.0, cells=[*old, *new], builds=builds)


def test_diff_names_what_changed_and_nothing_else() -> None:
    r = _results()
    diff = diff_sides(side_of(r, "0.117.0"), side_of(r, "0.125.0"))
    fp = diff["fingerprint"]
    assert fp["usage_keys"] == {"added": ["reasoning_output_tokens"], "removed": []}
    assert fp["flags"] == {"added": ["--ignore-rules"], "removed": []}
    assert fp["tools_declared"] == {"added": ["exec_command"], "removed": ["shell"]}
    assert fp["stderr"] == {"added": [], "removed": ["Reading prompt from stdin"]}
    assert fp["model_catalog"] == {"added": ["gpt-5.5"], "removed": []}
    assert fp["session_files"] == {"old": {"ephemeral": 0, "persistent": 1}, "new": {"ephemeral": 0, "persistent": 2}}
    assert set(fp) == {"usage_keys", "flags", "tools_declared", "stderr", "model_catalog", "session_files"}
    assert diff["tests"] == [{"cell": "codex-api-key / ephemeral", "credential": "codex-api-key", "policy": "ephemeral",
                              "sandbox": "danger-full-access", "lane": "python",
                              "test": "test_tool_round_trip[tool]", "old": "pass", "new": "fail"}]
    md = render_markdown(diff)
    assert "# codex 0.117.0 → 0.125.0" in md
    assert "- **usage keys**: + `reasoning_output_tokens`" in md
    assert "| codex-api-key / ephemeral | `test_tool_round_trip[tool]` | pass | fail |" in md


def test_a_changed_expectation_is_one_cell_row_not_a_list_of_tests() -> None:
    old = _cells("0.98.0", {"test_ephemeral_is_refused_not_persisted[ok]": "pass"}, expect="ephemeral-unsupported")
    new = _cells("0.99.0", {"test_event_grammar[ok]": "pass", "test_exit_code_zero[ok]": "pass"})
    r = RunResults(started=now(), duration_s=1.0, cells=[*old, *new],
                   builds={"0.98.0": _build("0.98.0", flags=["--json"]), "0.99.0": _build("0.99.0")})
    diff = diff_sides(side_of(r, "0.98.0"), side_of(r, "0.99.0"))
    assert diff["fingerprint"]["flags"]["added"] == ["--skip-git-repo-check", "--ephemeral"]
    assert diff["tests"] == []
    [cell] = diff["cells"]
    assert cell["old"] == {"status": "pass", "expected": "ephemeral-unsupported"}
    assert cell["new"] == {"status": "pass", "expected": "native"}
    assert (cell["tests_only_old"], cell["tests_only_new"]) == (1, 2)
    assert "pass (expected ephemeral-unsupported) | pass (expected native) | 1 only on 0.98.0, 2 only on 0.99.0" \
        in render_markdown(diff)


def test_identical_builds_say_so() -> None:
    r = _results()
    same = side_of(r, "0.117.0")
    md = render_markdown(diff_sides(same, same))
    assert "No change in what the two builds showed." in md and "None: every test" in md


def test_diff_command_on_results_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_results(_results(), tmp_path)
    assert main(["diff", f"{path}:0.117.0", f"{path}:0.125.0"]) == 0
    out = capsys.readouterr().out
    assert "+ `reasoning_output_tokens`" in out and f"from `{path}:0.117.0`" in out
    assert main(["diff", "0.117.0", "0.125.0", "--reuse", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fingerprint"]["usage_keys"]["added"] == ["reasoning_output_tokens"]
    assert data["old"]["label"] == "0.117.0"


@pytest.mark.parametrize(("args", "fragment"), [
    (["RESULTS", "RESULTS"], "holds 2 fingerprinted builds (0.117.0, 0.125.0): name one as"),
    (["RESULTS:0.117.0", "RESULTS:0.117.0"], "A and B are the same build (0.117.0)"),
    (["RESULTS:0.117.0", "RESULTS:0.130.0"], "no fingerprint of 0.130.0 in that run"),
    (["0.117", "0.125.0"], "diff: '0.117' is not an X.Y.Z version"),
    (["missing.json", "0.125.0"], "missing.json does not exist"),
    (["0.117.0", "0.117.0", "--jobs", "0"], "--jobs takes a whole number"),
])
def test_bad_diff_input_is_one_line_exit_2(args: list[str], fragment: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write_results(_results(), tmp_path)
    argv = ["diff", *(a.replace("RESULTS", str(path)) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and fragment in err and err.count("\n") == 1


def test_fingerprints_carry_the_model_catalog(tmp_path: Path) -> None:
    for scenario, catalog in (("ok", ["gpt-5", "gpt-5.5"]), ("tool", ["gpt-5", "gpt-5.5"])):
        d = tmp_path / scenario
        d.mkdir()
        (d / "facts.json").write_text(json.dumps(Facts(version_line="codex-cli 0.125.0", model_catalog=catalog)
                                                 .to_json()))
    fp = cell_fingerprint(tmp_path)
    assert fp["model_catalog"] == ["gpt-5", "gpt-5.5"]
    cell = CellResult(CellSpec("0.125.0", "codex-api-key", "ephemeral", ("ok",)), "pass", fingerprint=fp)
    assert build_fingerprints([cell])["0.125.0"]["model_catalog"] == ["gpt-5", "gpt-5.5"]


def test_repeated_runs_are_separate_containers_with_their_own_output(tmp_path: Path) -> None:
    plan = JobPlan("codex0.99.0", "0.99.0", "img", (), tmp_path / "raw" / "0.99.0")
    assert repeat_plans([plan], 1) == [plan]
    three = repeat_plans([plan], 3)
    assert [p.name for p in three] == ["codex0.99.0-run1", "codex0.99.0-run2", "codex0.99.0-run3"]
    assert len({p.raw_dir for p in three}) == 3 and all(p.raw_dir.parent == plan.raw_dir.parent for p in three)


def test_cells_that_share_credential_and_policy_are_diffed_apart() -> None:
    """A run with a lane cell (or another sandbox mode) beside the python lane's cell of the same credential
    and policy: keyed by those two alone, the last one read stood for both and the other's change was lost."""
    def side(version: str, python: str, sdk: str) -> RunResults:
        cells = []
        for lane, outcome in (("python", python), ("codex-sdk@0.114.0:documented", sdk)):
            cell = CellSpec(version, "codex-api-key", "persistent", ("ok",), expect="native", lane=lane)
            cells.append(CellResult(cell, "fail" if outcome == "fail" else "pass",
                                    tests=[TestRecord(cell.id, "test_the_lane_saw_the_whole_turn[ok]", "ok", outcome)],
                                    fingerprint=_build(version)))
        return RunResults(started=now(), duration_s=1.0, cells=cells, builds=build_fingerprints(cells))

    diff = diff_sides(side_of(side("0.118.0", "pass", "pass"), "0.118.0"),
                      side_of(side("0.120.0", "pass", "fail"), "0.120.0"))
    changed = [(t["lane"], t["old"], t["new"]) for t in diff["tests"]]
    assert changed == [("codex-sdk@0.114.0:documented", "pass", "fail")]
    assert [c["cell"] for c in diff["cells"]] == ["codex-api-key / persistent / codex-sdk@0.114.0:documented"]
    assert "| codex-api-key / persistent / codex-sdk@0.114.0:documented | `test_the_lane_saw_the_whole_turn[ok]` " \
        "| pass | fail |" in render_markdown(diff)
