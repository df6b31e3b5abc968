"""Builds the lane cannot drive: legacy streams and missing --ephemeral are detected, never faked."""

from __future__ import annotations

import pytest

from harness.fakeapi.scenarios import SCENARIOS
from harness.suite.cellrun import Outcome
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.expectations import legacy_key_reaches_api, legacy_outcome

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


@pytest.mark.kinds("legacy")
@pytest.mark.scenarios("ok")
def test_legacy_build_is_detected(outcome: Outcome) -> None:
    caps = outcome.result.capabilities
    assert caps is not None and caps.protocol == "legacy"


@pytest.mark.kinds("legacy")
@pytest.mark.needs("projection", "policy")
@pytest.mark.policies("persistent")
@pytest.mark.scenarios("ok")
def test_legacy_stream_is_reported_as_legacy(outcome: Outcome) -> None:
    assert outcome.result.seam is not None, f"the lane did not run codex: {outcome.result.refused}"
    assert outcome.result.mapped.protocol == "legacy"
    assert outcome.result.authority.usage_authority == "none"


@pytest.mark.kinds("refuses_ephemeral")
@pytest.mark.needs("projection", "policy")
@pytest.mark.policies("ephemeral")
def test_ephemeral_is_refused_not_persisted(outcome: Outcome) -> None:
    result = outcome.result
    assert result.seam is None, "the lane ran a build without --ephemeral for an ephemeral cell"
    assert result.refused and "--ephemeral" in result.refused
    assert result.authority.thread_status == "failed"
    assert outcome.journal == []
    assert outcome.session_files == []


@pytest.mark.kinds("legacy")
@pytest.mark.needs("projection", "policy")
@pytest.mark.policies("persistent")
def test_legacy_scenario_outcome(outcome: Outcome) -> None:
    result = outcome.result
    assert result.seam is not None, f"the lane did not run codex: {result.refused}"
    version = tuple(int(p) for p in outcome.cell.version.split(".")[:3])
    setup = CREDENTIAL_SETUPS[outcome.cell.credential]
    scenario = SCENARIOS[outcome.scenario]
    api_sees, env_var = setup.api_sees, setup.env_var
    if outcome.variant is not None and outcome.variant.credential is not None:  # the world set its own key
        source, origin, api_sees = outcome.variant.credential
        env_var = origin if source == "explicit-api-key" else None  # else auth.json: no variable
    authorised = legacy_key_reaches_api(version, api_sees, env_var)
    # a wrapper in front of codex (harness.suite.variants) may fail a turn codex completed, whose native
    # outcome still has usage from turn.completed: codex itself succeeded there, the wrapper's code wins
    wrapped = outcome.variant.wrapper_exit if outcome.variant is not None else None
    codex_succeeds = scenario.succeeds or (wrapped not in (None, 0)
                                           and scenario.outcome.usage_authority == "live-turn-completed")
    want = legacy_outcome(version, authorised, codex_succeeds, scenario.waits, scenario.refuses)
    if wrapped is not None and want["exit_code"] is not None:  # codex exited by itself; the wrapper then did
        want = {"status": "completed" if want["status"] == "completed" and wrapped == 0 else "failed",
                "exit_code": wrapped}
    got = {"status": result.authority.thread_status, "exit_code": result.seam.exit_code}
    assert got == want
    assert result.authority.usage_authority == "none", "legacy token_count must not claim turn authority"
