"""``merge``: shards' out dirs become one out dir that says what one run would have said."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.incoming.results import read_results
from harness.results import RunResults
from harness.suite.protocol import CellSpec
from tests.unit.outdirs import later, make_out

A = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool"))
B = CellSpec("0.117.0", "none", "persistent", ("ok",), expect="auth-required", expect_reason="no key")
C = CellSpec("0.169.0", "codex-api-key", "ephemeral", ("ok", "hang"))


def _ids_and_statuses(path: Path) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads((path / "results.json").read_text())["cells"]}


def test_results_json_round_trips_through_the_one_reader(tmp_path: Path) -> None:
    run = make_out(tmp_path / "out", [A, B, C], {C.id: "fail"})
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    again = RunResults.from_json(data)
    assert again.to_json() == data
    assert [c.cell for c in again.cells] == [c.cell for c in run.cells]  # scenarios, expectation, known: all back


def test_two_shards_merge_into_what_one_run_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_out(tmp_path / "one", [A, B, C])
    make_out(tmp_path / "s1", [A, B])
    make_out(tmp_path / "s2", [C], started=later(1))
    # CI downloads each shard's artifact somewhere else: results.json's artifact paths no longer exist
    shutil.move(tmp_path / "s2", tmp_path / "moved-s2")
    assert main(["merge", str(tmp_path / "moved-s2"), str(tmp_path / "s1"), "--out", str(tmp_path / "m")]) == 0
    merged = tmp_path / "m"
    assert _ids_and_statuses(merged) == _ids_and_statuses(tmp_path / "one")
    assert [c["id"] for c in json.loads((merged / "results.json").read_text())["cells"]] == [A.id, B.id, C.id]
    for name in ("junit.xml", "report.md", "report.html"):
        assert (merged / name).is_file()
    results = read_results(merged / "results.json")
    for cell in results.cells:  # the merged dir holds the artifacts and points into itself
        assert cell.artifacts is not None and Path(cell.artifacts).is_dir()
        assert Path(cell.artifacts).is_relative_to(merged / "raw")
    assert set(results.builds) == {"0.117.0", "0.169.0"}
    assert results.duration_s >= 60  # wall span from the first shard's start to the last one's end
    assert "3 cells" in capsys.readouterr().out


def test_exit_status_follows_run_rules(tmp_path: Path) -> None:
    make_out(tmp_path / "ok", [A])
    make_out(tmp_path / "bad", [C], {C.id: "fail"})
    make_out(tmp_path / "stopped", [B], interrupted=True)
    assert main(["merge", str(tmp_path / "ok"), "--out", str(tmp_path / "m0")]) == 0
    assert main(["merge", str(tmp_path / "ok"), str(tmp_path / "bad"), "--out", str(tmp_path / "m1")]) == 1
    assert main(["merge", str(tmp_path / "bad"), str(tmp_path / "stopped"), "--out", str(tmp_path / "m2")]) == 130
    assert "Some cells did not meet" in (tmp_path / "m1" / "report.md").read_text()


def test_same_cell_identical_is_kept_once_different_is_refused(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    make_out(tmp_path / "s1", [A, B])
    shutil.copytree(tmp_path / "s1", tmp_path / "copy")
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "copy"), "--out", str(tmp_path / "m")]) == 0
    assert list(_ids_and_statuses(tmp_path / "m")) == [A.id, B.id]
    make_out(tmp_path / "rerun", [A], {A.id: "fail"})
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "rerun"), "--out", str(tmp_path / "m2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cell {A.id} differs between" in err
    assert not (tmp_path / "m2").exists()


@pytest.mark.parametrize("content", [None, "not json", "[]", '{"schema": 99, "cells": []}', '{"schema": 1}'])
def test_unreadable_input_is_one_line_exit_2(tmp_path: Path, content: str | None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    if content is not None:
        (bad / "results.json").write_text(content)
    assert main(["merge", str(bad), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and err.count("\n") == 1 and str(bad) in err
    assert not (tmp_path / "m").exists()


def test_merging_into_an_input_dir_keeps_its_files(tmp_path: Path) -> None:
    make_out(tmp_path / "s1", [A])
    make_out(tmp_path / "s2", [C])
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "s1")]) == 0
    results = read_results(tmp_path / "s1" / "results.json")
    assert all(c.artifacts and Path(c.artifacts).is_dir() for c in results.cells)


def test_expect_turns_a_missing_shard_into_error_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Shard 2 died before writing anything: with --expect its cells are errors, never silently absent."""
    selection = ["--versions", "0.117.0,0.169.0", "--credentials", "codex-api-key", "--scenarios", "ok"]
    cells = [CellSpec("0.117.0", "codex-api-key", p, ("ok",)) for p in ("ephemeral", "persistent")]
    make_out(tmp_path / "s1", cells)
    assert main(["merge", str(tmp_path / "s1"), "--out", str(tmp_path / "plain"), *selection]) == 0  # no --expect
    assert main(["merge", str(tmp_path / "s1"), "--out", str(tmp_path / "m"), "--expect", *selection]) == 1
    merged = _ids_and_statuses(tmp_path / "m")
    assert merged == {**{c.id: "pass" for c in cells}, "codex0.169.0-codex-api-key-ephemeral": "error",
                      "codex0.169.0-codex-api-key-persistent": "error"}
    junit = (tmp_path / "m" / "junit.xml").read_text()
    assert 'name="codex0.169.0-codex-api-key-persistent"' in junit and "no input reported this cell" in junit
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "s1"), "--out", str(tmp_path / "bad"), "--expect", "--credentials", "x"]) == 2
    assert not (tmp_path / "bad").exists()
