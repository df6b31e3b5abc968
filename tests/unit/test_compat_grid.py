"""The compat grid (harness.report.compat): outcome classes per lane version × build, what matrix.yaml
expects beside each, and the first failing test of every pair that did not answer."""

from __future__ import annotations

from harness.report.compat import Pair, render


def _grid() -> list[Pair]:
    return [
        Pair("0.114.0", "documented", "0.116.0", "ok", None, "native"),
        Pair("0.114.0", "documented", "0.171.0", "hang", "test_the_lane_answers_what_the_api_sent[ok]: hang: no result",
             "lane-base-url-cliff"),
        Pair("0.163.0", "documented", "0.116.0", "ok", None, "native"),
        Pair("0.163.0", "documented", "0.171.0", "exit-nonzero", "test_the_lane_answers_what_the_api_sent[ok]: "
             "exit-nonzero: turn.failed: 500", "native"),
    ]


def test_rows_are_lane_versions_and_columns_builds() -> None:
    text = render(_grid(), "codex-sdk")
    rows = {line[:9].strip(): line[9:] for line in text.splitlines() if line.startswith("  0.1")}
    assert [c.strip() for c in rows["0.114.0"].split("  ") if c.strip()] == ["ok", "HANG C"]
    assert [c.strip() for c in rows["0.163.0"].split("  ") if c.strip()] == ["ok", "EXIT!"]


def test_each_pair_that_did_not_answer_names_its_first_failing_test() -> None:
    text = render(_grid(), "codex-sdk")
    assert "codex-sdk@0.114.0 documented × codex 0.171.0: HANG (expected: base-URL cliff)" in text
    assert "codex-sdk@0.163.0 documented × codex 0.171.0: EXIT (expected: native, NOT as expected)" in text
    assert "turn.failed: 500" in text


def test_as_expected_follows_the_expectation() -> None:
    grid = _grid()
    assert [p.as_expected for p in grid] == [True, True, True, False]
    assert not Pair("0.114.0", "documented", "0.171.0", "ok", None, "lane-base-url-cliff").as_expected


def test_one_build_or_one_lane_version_gets_its_answer_in_words() -> None:
    one_build = [p for p in _grid() if p.build == "0.171.0"] + [
        Pair("0.116.0", "documented", "0.171.0", "ok", None, "native")]
    assert "codex 0.171.0 works with codex-sdk 0.116.0\n" in render(one_build, "codex-sdk") + "\n"
    one_version = [p for p in _grid() if p.lane_version == "0.114.0"]
    assert "codex-sdk@0.114.0 works with codex 0.116.0\n" in render(one_version, "codex-sdk") + "\n"


def test_a_script_lane_has_a_row_of_its_own() -> None:
    grid = [*_grid(), Pair("my-lane.mjs", "default", "0.171.0", "crash", "test_the_lane_did_not_break[ok]: crash",
                           "native")]
    text = render(grid, "script")
    assert "my-lane.mjs" in text and "CRASH!" in text
