"""The build fingerprint's one field table (harness.fingerprint.FIELDS) is what every consumer iterates.

A fact added to the table must show in the fingerprint a run writes, in ``diff``, in the atlas timeline,
in report.md and report.html and in the typed reader of results.json, with no other file touched: each
test here takes the table's side and checks that consumer against it, with real facts files and reports.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.atlas.timeline import CATEGORIES, record_facts
from harness.diff import LISTS, VALUES, Side, diff_sides
from harness.fingerprint import COMPARED, FIELDS, UNIONS, Field, build_fingerprints, cell_fingerprint
from harness.incoming.results import BuildFingerprintModel, CellFingerprintModel
from harness.report.html import fingerprint_changes
from harness.report.markdown import render_markdown
from harness.results import CellResult, RunResults, now
from harness.suite.facts import Facts
from harness.suite.protocol import CellSpec

#: One value of each kind that is not its empty value.
SAMPLE = {"name": "x", "names": ["a", "b"], "texts": ["a line"], "counts": {"ephemeral": 1},
          "labels": {"tool": "printed"}, "seconds": 1.5, "seconds_by": {"tool": 0.3}, "names_by": {"k": ["GET models"]}}
#: A value of the wrong type for each kind.
WRONG = {"name": ["x"], "names": "a", "texts": {"a": 1}, "counts": ["x"], "labels": ["x"], "seconds": "slow",
         "seconds_by": ["x"], "names_by": ["x"]}


def _cell_with_every_union(tmp_path: Path) -> dict[str, object]:
    scenario = tmp_path / "ok"
    scenario.mkdir()
    facts = Facts(version_line="codex-cli 0.150.0", **{f.union_of: [f"{f.key}-seen"] for f in UNIONS if f.union_of})
    (scenario / "facts.json").write_text(json.dumps(facts.to_json()))
    return cell_fingerprint(tmp_path)


def test_union_facts_name_real_suite_facts() -> None:
    suite = {f.name for f in dataclasses.fields(Facts)}
    assert UNIONS and all(f.union_of in suite for f in UNIONS)


def test_a_run_writes_every_fact_of_the_table(tmp_path: Path) -> None:
    fp = _cell_with_every_union(tmp_path)
    cell = CellResult(CellSpec("0.150.0", "codex-api-key", "ephemeral", ("ok",)), "pass", fingerprint=fp)
    build = build_fingerprints([cell])["0.150.0"]
    assert list(build) == [f.key for f in FIELDS]
    for field in UNIONS:
        assert build[field.key] == [f"{field.key}-seen"]
    CellFingerprintModel.model_validate(fp)
    BuildFingerprintModel.model_validate(build)


@pytest.mark.parametrize("field", FIELDS, ids=[f.key for f in FIELDS])
def test_the_reader_types_each_fact_by_its_kind(field: Field) -> None:
    assert field.key in BuildFingerprintModel.model_fields
    BuildFingerprintModel.model_validate({field.key: SAMPLE[field.kind]})
    with pytest.raises(ValidationError):
        BuildFingerprintModel.model_validate({field.key: WRONG[field.kind]})


def _builds() -> dict[str, dict[str, object]]:
    old = {f.key: f.empty() for f in FIELDS}
    new = {f.key: SAMPLE[f.kind] for f in FIELDS}
    return {"0.1.0": old, "0.2.0": new}


def test_diff_and_html_compare_the_compared_facts() -> None:
    assert [k for k, _ in LISTS + VALUES] == [f.key for f in COMPARED if f.is_list] + \
        [f.key for f in COMPARED if not f.is_list]
    builds = _builds()
    diff = diff_sides(Side("a", "0.1.0", builds["0.1.0"]), Side("b", "0.2.0", builds["0.2.0"]))
    shown = {f.key for f in COMPARED if f.key != "version_line"}
    assert set(diff["fingerprint"]) == shown
    notes = fingerprint_changes(builds)["0.2.0"]
    assert [n.split(":")[0] for n in notes] == [f.key for f in COMPARED if f.key != "version_line"]


def test_the_timeline_has_a_category_per_timeline_fact() -> None:
    table = [f.timeline for f in FIELDS if f.timeline is not None]
    assert list(CATEGORIES[:len(table)]) == table
    record = {"status": "ok", "fingerprint": _builds()["0.2.0"], "cells": {}, "tests": {}}
    facts = record_facts(record)
    assert facts is not None
    assert {category for category, _ in facts} == {c for c, _ in table}


def test_report_md_has_a_column_per_table_column() -> None:
    results = RunResults(started=now(), duration_s=0.0, cells=[], builds={"0.2.0": _builds()["0.2.0"]})
    md = render_markdown(results)
    header = next(line for line in md.splitlines() if line.startswith("| build |"))
    assert header == "| build | " + " | ".join(str(f.column) for f in FIELDS if f.column) + " |"
