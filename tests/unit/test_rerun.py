"""results.json read back (its one reader), `run --rerun-failed`, and report.md's repro command per missed cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import UserError
from harness.incoming.results import read_results
from harness.matrix import Selection
from harness.report import render_markdown
from harness.report.markdown import repro_command
from harness.rerun import missed_ids, rerun_selection
from harness.results import CellResult, RunResults, now, write_results
from harness.suite.protocol import CellSpec, KnownRegression, TestRecord

MET = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool"))
MISSED = CellSpec("0.117.0", "none", "ephemeral", ("ok", "tool", "hang"), expect="auth-required",
                  expect_reason="no key", known={"hang": KnownRegression("slow", link="https://x/1", rate=None)})


def _results() -> RunResults:
    met = CellResult(MET, "pass", 1.5, [TestRecord(MET.id, "test_a[ok]", "ok", "pass", "", 0.1),
                                         TestRecord(MET.id, "test_a[tool]", "tool", "pass")],
                     fingerprint={"version_line": "codex-cli 0.117.0", "protocol": "thread-events", "flags": []},
                     lane_s={"ok": 1.2, "tool": 0.3})
    missed = CellResult(MISSED, "fail", 2.0, [TestRecord(MISSED.id, "test_a[ok]", "ok", "pass"),
                                              TestRecord(MISSED.id, "test_b[tool]", "tool", "fail", "boom"),
                                              TestRecord(MISSED.id, "test_c[hang]", "hang", "xfail", "slow")],
                        message="", planned=3)
    return RunResults(started=now(), duration_s=3.0, cells=[met, missed],
                      builds={"0.117.0": {"version_line": "codex-cli 0.117.0", "usage_keys": ["input_tokens"]}})


def test_results_json_reads_back_what_was_written(tmp_path: Path) -> None:
    results = _results()
    back = read_results(write_results(results, tmp_path))
    assert back.to_json() == results.to_json()
    assert [c.cell for c in back.cells] == [c.cell for c in results.cells]  # scenarios from the tests, in order
    assert [c.met for c in back.cells] == [True, False]


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "does not exist"),
    ("{not json", "is not valid JSON"),
    ('{"schema": 9, "cells": []}', "is not a results.json of schema 1"),
    ('{"schema": 1, "cells": [{"id": "x"}], "started": "2026-01-01T00:00:00+00:00"}', "cells[0].version: Field"),
])
def test_unreadable_results_are_one_line_errors(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError) as err:
        read_results(path)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_rerun_selects_exactly_the_missed_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_results(_results(), tmp_path)
    assert missed_ids(_results()) == [MISSED.id]
    narrowed = rerun_selection(Selection(scenarios="ok,tool"), "", tmp_path)
    assert narrowed == Selection(scenarios="ok,tool", cells=MISSED.id)
    assert f"rerunning 1 cells that missed their expectation in {path}: {MISSED.id}" in capsys.readouterr().err
    with pytest.raises(UserError, match="drop --cells"):
        rerun_selection(Selection(cells=MET.id), str(path), tmp_path)


def test_rerun_when_nothing_missed_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = _results()
    results.cells = results.cells[:1]
    src = write_results(results, tmp_path / "earlier")
    out = tmp_path / "out"
    assert main(["run", "--rerun-failed", str(src), "--out", str(out)]) == 0
    assert "nothing to rerun" in capsys.readouterr().err
    assert not out.exists()


def test_rerun_of_a_missing_results_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", "--rerun-failed", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'results.json'} does not exist" in err and err.count("\n") == 1
    assert not out.exists()


def test_report_prints_a_repro_command_for_every_missed_cell() -> None:
    results = _results()
    md = render_markdown(results)
    assert f"- reproduce: `codex-matrix repro {MISSED.id} --scenario tool`" in md
    assert md.count("- reproduce: ") == 1  # the met cell needs none
    died = CellResult(MET, "error", message="the contract suite ended without finishing")
    assert repro_command(died) == f"codex-matrix repro {MET.id}"


def test_results_json_keys_unchanged_by_the_reader(tmp_path: Path) -> None:
    data = json.loads(write_results(_results(), tmp_path).read_text())
    assert data["schema"] == 1 and data["cells"][1]["xfail"]["hang"]["link"] == "https://x/1"
