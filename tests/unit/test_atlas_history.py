"""Each contract test's history in the timeline: the release where it started to hold or to fail, on the
pages beside the rules, and a rule the atlas contradicts flagged at the top of both pages."""

from __future__ import annotations

from typing import Any

from harness.atlas.history import held_since, histories, span_text, verdicts
from harness.atlas.html import render_html
from harness.atlas.markdown import render_markdown
from harness.atlas.record import new_record
from harness.atlas.rules import rule_rows
from harness.atlas.timeline import build_timeline
from harness.matrix import load_matrix

RACE = "test_tool_round_trip[tool-race]"
GRAMMAR = "test_event_grammar[ok]"
TIMEOUT = "test_timeout_is_reported[hang]"


def record(version: str, cells: dict[str, dict[str, str]], unfinished: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {**new_record(version, None), "status": "ok", "tests": cells,
           "cells": {k: {"status": "pass", "expected": "native"} for k in cells}}
    for key in unfinished:
        out["cells"][key]["unfinished"] = "died"
    return out


RECORDS = [
    record("0.116.0", {"a/e": {RACE: "pass", GRAMMAR: "pass", TIMEOUT: "skip"}}),
    record("0.117.0", {"a/e": {RACE: "xfail", GRAMMAR: "pass", TIMEOUT: "skip"},
                       "b/p": {RACE: "fail", GRAMMAR: "pass"}}),
    record("0.120.0", {"a/e": {RACE: "pass", GRAMMAR: "pass", TIMEOUT: "fail"}}, unfinished=("a/e",)),
    record("0.130.0", {"a/e": {RACE: "xfail", GRAMMAR: "pass", TIMEOUT: "pass"}}),
    record("0.146.0", {"a/e": {RACE: "xpass", GRAMMAR: "pass", TIMEOUT: "pass"}}),
]
OBSERVED = [str(r["version"]) for r in RECORDS]


def test_a_release_verdict_per_test() -> None:
    assert verdicts(RECORDS[1]) == {RACE: ("fails", 2), GRAMMAR: ("holds", 0)}  # skip: not counted
    assert verdicts(RECORDS[2]) == {}  # its only cell was cut short: says nothing
    assert verdicts(RECORDS[4])[RACE] == ("holds", 0)  # xpass: codex did what the test asks


def test_each_test_has_the_release_it_started_to_hold_or_fail_in() -> None:
    rows = {r["test"]: r for r in histories(RECORDS, OBSERVED)}
    race = rows[RACE]
    assert [(s["verdict"], s["from"], s["after"], s["last"]) for s in race["spans"]] == [
        ("holds", "0.116.0", None, "0.116.0"), ("fails", "0.117.0", "0.116.0", "0.130.0"),
        ("holds", "0.146.0", "0.130.0", "0.146.0")]
    assert race["spans"][1]["most_cells"] == 2 and race["holds_now"] and not race["always_held"]
    assert span_text(race["spans"][1]) == "fails 0.117.0–0.130.0 (from 0.117.0, after 0.116.0; up to 2 cells)"
    timeout = rows[TIMEOUT]  # skipped until 0.120.0, whose cell died: it started to hold in 0.130.0
    assert timeout["first"] == "0.130.0" and timeout["always_held"]
    assert held_since(list(rows.values())) == {"0.116.0": [GRAMMAR], "0.130.0": [TIMEOUT]}


def test_the_pages_show_the_histories_and_flag_a_rule_that_disagrees() -> None:
    timeline = build_timeline(RECORDS)
    assert [r["test"] for r in timeline["tests"]] == sorted([RACE, GRAMMAR, TIMEOUT])
    truthful = rule_rows(load_matrix(), RECORDS, timeline["observed"])
    assert all(r["agrees"] for r in truthful)
    assert truthful[0]["claimed"] == "0.117.0–0.130.0 (2 releases)"  # 0.120.0's cell died: it claims nothing
    fixed = record("0.130.0", {"a/e": {RACE: "xpass", GRAMMAR: "pass", TIMEOUT: "pass"}})
    timeline["rules"] = rule_rows(load_matrix(), [*RECORDS[:3], fixed, RECORDS[4]], timeline["observed"])
    wrong = [r for r in timeline["rules"] if not r["agrees"]]
    assert [r["rule"] for r in wrong] == [1]  # the strict race rule: 0.130.0 passed inside its range
    markdown = render_markdown(timeline)
    assert "disagree with the atlas:**" in markdown.split("## Known transitions")[0]  # the flag, at the top
    assert "## Contract tests: where each started to hold or to fail (3)" in markdown
    assert "fails 0.117.0–0.130.0 (from 0.117.0, after 0.116.0; up to 2 cells)" in markdown
    assert "- from 0.116.0: `test_event_grammar[ok]`" in markdown
    page = render_html(timeline)
    assert page.index("<div class=flag>") < page.index("Known transitions")
    assert "Contract tests: where each started to hold or to fail (3)" in page
    agreeing = {**timeline, "rules": [r for r in timeline["rules"] if r["agrees"]]}
    assert "disagree with the atlas" not in render_markdown(agreeing) and "class=flag" not in render_html(agreeing)
