"""Builds the lane cannot drive: legacy streams and missing --ephemeral are detected, never faked."""

from __future__ import annotations

import pytest
from cellrun import Outcome


@pytest.mark.expects("legacy-fallback")
@pytest.mark.scenarios("ok")
def test_legacy_build_is_detected(outcome: Outcome) -> None:
    caps = outcome.result.capabilities
    assert caps is not None and caps.protocol == "legacy"


@pytest.mark.expects("legacy-fallback")
@pytest.mark.scenarios("ok")
def test_legacy_stream_is_reported_as_legacy(outcome: Outcome) -> None:
    if outcome.result.seam is None:
        assert outcome.result.refused, "the lane neither ran nor said why"
        return
    assert outcome.result.mapped.protocol == "legacy"
    assert outcome.result.authority.usage_authority == "none"


@pytest.mark.expects("ephemeral-unsupported")
def test_ephemeral_is_refused_not_persisted(outcome: Outcome) -> None:
    assert outcome.result.seam is None, "the lane ran a build without --ephemeral for an ephemeral cell"
    assert outcome.result.refused and "--ephemeral" in outcome.result.refused
    assert outcome.journal == []
    assert outcome.session_files == []
