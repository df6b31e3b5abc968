"""How a known codex regression (matrix.yaml ``xfail``) turns a contract test's report, as the plugin applies it.

The rule works on the report object alone (as pytest's own skipping.py does), so real ``TestReport``
objects are built here for each outcome.
"""

from __future__ import annotations

import pytest

from harness.suite.plugin import apply_known_regression
from harness.suite.protocol import KnownRegression


def _report(outcome: str, message: str = "") -> pytest.TestReport:
    return pytest.TestReport(nodeid="t::test_x[case]", location=("t", 1, "test_x"), keywords={}, outcome=outcome,
                             longrepr=message if outcome == "failed" else None, when="call")


def test_matching_failure_is_xfail() -> None:
    report = _report("failed", "AssertionError: command item.completed missing for 1 of 1 tool calls")
    apply_known_regression(report, KnownRegression("race", match="item.completed missing"))
    assert report.outcome == "skipped" and report.wasxfail == "race"


def test_failure_that_does_not_match_stays_a_failure() -> None:
    report = _report("failed", "AssertionError: exit code 2")
    apply_known_regression(report, KnownRegression("race", match="item.completed missing"))
    assert report.outcome == "failed" and "not as the known regression describes" in str(report.longrepr)


def test_strict_pass_fails_and_says_fixed() -> None:
    report = _report("passed")
    apply_known_regression(report, KnownRegression("race", link="https://x/1"))
    assert report.outcome == "failed" and "remove or narrow the xfail rule" in str(report.longrepr)


def test_non_strict_pass_stays_a_pass() -> None:
    report = _report("passed")
    apply_known_regression(report, KnownRegression("race", strict=False, rate=0.3))
    assert report.outcome == "passed"


def test_no_match_means_any_failure() -> None:
    report = _report("failed", "anything at all")
    apply_known_regression(report, KnownRegression("broken"))
    assert report.outcome == "skipped"
