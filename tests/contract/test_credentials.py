"""Credential setups: which credential reached the API (request journal) and what the lane reported."""

from __future__ import annotations

import re

import pytest

from harness.suite.cellrun import Outcome
from harness.suite.credentials import CREDENTIAL_SETUPS

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")

#: The worlds that set the run's credentials themselves (harness.suite.variants): a valid CODEX_API_KEY
#: beside an invalid OPENAI_API_KEY, and a whitespace-only CODEX_API_KEY beside a valid auth.json.
CREDENTIAL_WORLDS = ("both-keys", "blank-key")


def _expected(outcome: Outcome) -> tuple[str, str | None, str]:
    """(source, origin, what the API sees) for the run: the variant's when it set the credentials, else
    the cell's setup's (an env key is bridged from its variable; auth.json is codex's own)."""
    variant = outcome.variant
    if variant is not None and variant.credential is not None:
        return variant.credential
    setup = CREDENTIAL_SETUPS[outcome.cell.credential]
    origin = {"explicit-api-key": setup.env_var, "auth-json": "auth.json"}.get(setup.lane_source)
    return setup.lane_source, origin, setup.api_sees


@pytest.mark.kinds("thread_stream")
@pytest.mark.scenarios("ok", *CREDENTIAL_WORLDS)
def test_credential_reached_api(outcome: Outcome) -> None:
    seen = {e["credential"] for e in outcome.turns}
    assert seen == {_expected(outcome)[2]}, (
        f"setup {outcome.credential_setup!r} ({outcome.scenario}): API saw {seen or 'no request'}"
    )


@pytest.mark.scenarios("ok", *CREDENTIAL_WORLDS)
def test_lane_reports_credential_source(outcome: Outcome) -> None:
    """The source and where it came from (the variable, auth.json), and the key only where the lane passes one."""
    source, origin, _ = _expected(outcome)
    credential = outcome.result.credential
    assert (credential.source, credential.origin) == (source, origin)
    if source == "explicit-api-key":
        assert credential.key is not None and credential.key.strip() == credential.key != ""
    else:
        assert credential.key is None, "a credential codex reads itself carries no key"


@pytest.mark.kinds("auth_failure")
def test_rejected_turn_fails_truthfully(outcome: Outcome) -> None:
    result = outcome.result
    assert result.seam is not None and not result.seam.timed_out
    assert result.seam.exit_code == 1
    assert result.authority.thread_status == "failed"
    assert result.authority.usage_authority == "none"
    assert all(e["status"] == 401 for e in outcome.turns), [e["status"] for e in outcome.turns]


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("ok")
def test_api_saw_the_kind_of_credential_the_setup_stores(outcome: Outcome) -> None:
    """A ChatGPT login authenticates with its access token (the journal keeps no token values)."""
    kind = CREDENTIAL_SETUPS[outcome.cell.credential].bearer_kind
    turns = outcome.turns
    assert turns, "no request reached the API"
    assert {e.get("credential_kind") for e in turns} == {kind}


# Failures of calls a real environment would have answered (ChatGPT's backend, the model catalog, a
# token refresh): the harness answers them or switches them off, so none may become a process warning.
# "Failed to refresh token: Token data is not available" is no call: an API-key login has no token to
# refresh, and 0.50-era builds log it after any 401, as they would against the real API (atlas, 0.50.0).
_BACKEND_NOISE = re.compile(r"chatgpt\.com|backend-api|refresh available models|models response|"
                            r"Failed to refresh token(?!: Token data is not available)|rmcp::transport|"
                            r"auth\.openai\.com")


@pytest.mark.kinds("thread_stream")
def test_no_warning_from_a_call_the_real_world_would_answer(outcome: Outcome) -> None:
    noise = [str(w.data.get("text")) for w in outcome.result.warnings if _BACKEND_NOISE.search(str(w.data.get("text")))]
    assert noise == []
