"""Releases far slower than their neighbours are found from the records and explained from measured causes;
one without a cause is flagged at the top of both pages."""

from __future__ import annotations

from typing import Any

import pytest

from harness.atlas import pace
from harness.atlas.html import render_html
from harness.atlas.markdown import render_markdown
from harness.atlas.pace import Cause, outliers
from harness.atlas.timeline import build_timeline


def record(version: str, cpu: float | None, wall: float, *, expected: str = "native",
           status: str = "ok", cell_set: str = "default") -> dict[str, Any]:
    return {"version": version, "npm_version": version, "status": status, "cell_set": cell_set,
            "cpu": {"prepare_s": 1.0, "runs_s": cpu}, "timings": {"runs_s": wall, "total_s": wall + 2},
            "cells": {"none/persistent": {"status": "pass", "expected": expected}}, "tests": {},
            "fingerprint": {}, "sizes": {}, "reused": {}, "error": None}


def steady(n: int = 7, cpu: float = 8.0, wall: float = 15.0) -> list[dict[str, Any]]:
    return [record(f"0.{70 + i}.0", cpu, wall) for i in range(n)]


def test_a_release_with_several_times_its_neighbours_cpu_is_an_outlier() -> None:
    records = steady()
    records[3] = record("0.73.0", 30.0, 16.0)
    rows = outliers(records)
    assert [(r["version"], r["measure"]) for r in rows] == [("0.73.0", "cpu")]
    row = rows[0]
    assert row["neighbours_median_s"] == 8.0 and row["ratio"] == 3.8
    assert row["neighbours"] == ["0.70.0", "0.71.0", "0.72.0", "0.74.0", "0.75.0", "0.76.0"]


@pytest.mark.parametrize(("cpu", "why"), [(15.9, "below twice the median"), (16.5, "above twice, but by < 10 s")])
def test_small_differences_are_no_finding(cpu: float, why: str) -> None:
    records = steady()
    records[3] = record("0.73.0", cpu, 15.0)
    if cpu > 16:  # 2x the median but only 8.5 s more: a cheap release's noise, not a finding
        assert cpu - 8.0 < pace.MIN_EXCESS_S["cpu"], why
    assert outliers(records) == [], why


def test_waiting_shows_in_wall_seconds_only() -> None:
    records = steady()
    records[2] = record("0.72.0", 8.5, 60.0)  # every run waits 5 s on an unanswered call, no more CPU
    assert [(r["version"], r["measure"]) for r in outliers(records)] == [("0.72.0", "wall")]


def test_neighbours_are_releases_under_the_same_contract_and_cell_set() -> None:
    """A legacy build's contract is another one: its waits are compared with legacy builds only, and a
    release not observed (not installable) is nobody's neighbour."""
    legacy = [record(f"0.{30 + i}.0", 6.0, 50.0, expected="legacy-fallback") for i in range(4)]
    records = legacy + steady() + [record("0.69.5", None, 0.0, status="not-installable")]
    assert outliers(records) == []
    compact = [record(f"0.{70 + i}.0", 2.0, 5.0, cell_set="compact") for i in range(3)]
    assert outliers(compact + steady()[3:]) == []


def test_each_outlier_carries_its_measured_cause_and_whose_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "CAUSES", (Cause("0.73.0", "0.73.0", ("cpu",), "codex computes more", False),))
    records = steady()
    records[3] = record("0.73.0", 30.0, 16.0)
    records[5] = record("0.75.0", 30.0, 16.0)
    rows = {r["version"]: r for r in outliers(records)}
    assert rows["0.73.0"]["cause"] == "codex computes more" and pace.whose(rows["0.73.0"]) == "no"
    assert rows["0.75.0"]["cause"] is None and pace.unexplained(list(rows.values())) == [rows["0.75.0"]]


def test_the_measured_causes_cover_what_they_say() -> None:
    """The table's own ranges: 0.59.0–0.61.0 cost CPU (codex's start-up), 0.23.0 CPU (its loop after an
    error), 0.8.0–0.20.0 wait (the contract)."""
    assert pace.cause_of("0.23.0", "cpu") is not None and pace.cause_of("0.22.0", "cpu") is None
    assert pace.cause_of("0.60.1", "cpu") is not None and pace.cause_of("0.60.1", "wall") is not None
    assert pace.cause_of("0.58.0", "cpu") is None and pace.cause_of("0.63.0", "cpu") is None
    assert pace.cause_of("0.20.0", "wall") is not None and pace.cause_of("0.20.0", "cpu") is None
    assert pace.cause_of("0.21.0", "wall") is None
    assert all(not c.fake_world for c in pace.CAUSES)  # a fake-world cause is fixed, then removed from here


def test_an_unexplained_outlier_is_flagged_at_the_top_of_both_pages() -> None:
    records = steady()
    records[3] = record("0.73.0", 8.0, 90.0)
    timeline = build_timeline(records)
    assert [r["version"] for r in timeline["pace"]] == ["0.73.0"]
    md = render_markdown(timeline)
    top = md.split("## Known transitions")[0]
    assert "1 release costs far above the neighbours' with no measured cause" in top and "0.73.0 (wall 90.0 s" in top
    assert "## Slower than the neighbours (1)" in md and "**not measured yet**" in md
    html = render_html(timeline)
    assert html.index("with no measured cause") < html.index("Known transitions")


def test_no_outlier_no_flag() -> None:
    timeline = build_timeline(steady())
    assert timeline["pace"] == []
    assert "no measured cause" not in render_markdown(timeline)
    assert "## Slower than the neighbours (0)" in render_markdown(timeline)
