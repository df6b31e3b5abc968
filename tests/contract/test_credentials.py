"""Credential setups: which credential reached the API (request journal) and what the lane reported."""

from __future__ import annotations

import pytest

from harness.suite.cellrun import Outcome
from harness.suite.credentials import CREDENTIAL_SETUPS


@pytest.mark.expects("native", "auth-required", "auth-rejected")
@pytest.mark.scenarios("ok")
def test_credential_reached_api(outcome: Outcome) -> None:
    seen = {e["credential"] for e in outcome.journal}
    assert seen == {CREDENTIAL_SETUPS[outcome.cell.credential].api_sees}, (
        f"setup {outcome.credential_setup!r}: API saw {seen or 'no request'}"
    )


@pytest.mark.scenarios("ok")
def test_lane_reports_credential_source(outcome: Outcome) -> None:
    assert outcome.result.credential.source == CREDENTIAL_SETUPS[outcome.cell.credential].lane_source


@pytest.mark.expects("auth-required", "auth-rejected")
def test_rejected_turn_fails_truthfully(outcome: Outcome) -> None:
    result = outcome.result
    assert result.seam is not None and not result.seam.timed_out
    assert result.seam.exit_code == 1
    assert result.authority.thread_status == "failed"
    assert result.authority.usage_authority == "none"
    assert all(e["status"] == 401 for e in outcome.journal), [e["status"] for e in outcome.journal]
