"""Credential setups: which credential reached the API (request journal) and what the lane reported."""

from __future__ import annotations

import pytest
from cellrun import Outcome

LANE_SOURCE = {
    "codex-api-key": "explicit-api-key",
    "openai-api-key": "explicit-api-key",
    "auth-json": "auth-json",
    "none": "none",
    "invalid-key": "explicit-api-key",
}
API_SAW = {"codex-api-key": "valid", "openai-api-key": "valid", "auth-json": "valid",
           "none": "none", "invalid-key": "invalid"}


@pytest.mark.expects("native", "auth-required", "auth-rejected")
@pytest.mark.scenarios("ok")
def test_credential_reached_api(outcome: Outcome) -> None:
    seen = {e["credential"] for e in outcome.journal}
    assert seen == {API_SAW[outcome.cell.credential]}, (
        f"setup {outcome.credential_setup!r}: API saw {seen or 'no request'}"
    )


@pytest.mark.expects("native", "legacy-fallback", "ephemeral-unsupported", "auth-required", "auth-rejected")
@pytest.mark.scenarios("ok")
def test_lane_reports_credential_source(outcome: Outcome) -> None:
    assert outcome.result.credential.source == LANE_SOURCE[outcome.cell.credential]


@pytest.mark.expects("auth-required", "auth-rejected")
def test_rejected_turn_fails_truthfully(outcome: Outcome) -> None:
    result = outcome.result
    assert result.seam is not None and not result.seam.timed_out
    assert result.seam.exit_code == 1
    assert result.authority.thread_status == "failed"
    assert result.authority.usage_authority == "none"
    assert all(e["status"] == 401 for e in outcome.journal), [e["status"] for e in outcome.journal]
