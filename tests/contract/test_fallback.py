"""Backend resolution with the container's real binary: native only when truly ready, else the old lane.

What does not depend on the build (the flag off → locked, no codex on PATH → runtime-missing) is
checked once, in tests/unit/test_backends.py, not in every container.
"""

from __future__ import annotations

import pytest

from harness.lane.backends import resolve_backend
from harness.suite.cellrun import Outcome
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.expectations import EXPECTATIONS

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


def _env(outcome: Outcome) -> dict[str, str]:
    codex_home = outcome.artifacts  # any dir without auth.json works for "no stored login"
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "CODEX_HOME": str(codex_home)}
    var = CREDENTIAL_SETUPS[outcome.cell.credential].env_var
    if var is not None:
        env[var] = "sk-fallback-probe-000000"
    return env


@pytest.mark.scenarios("ok")
def test_native_state_matches_expectation(outcome: Outcome) -> None:
    decision = outcome.resolver
    # the resolver checks flag → binary → credential → protocol/flags, so a missing credential is
    # reported before a legacy protocol or a missing --ephemeral
    setup = CREDENTIAL_SETUPS[outcome.cell.credential]
    want = EXPECTATIONS[outcome.cell.expect].native_state if setup.has_credential else "authentication-required"
    assert decision["native"]["state"] == want, decision["native"]["reason"]
    if decision["native"]["state"] == "ready":
        assert decision["resolved"] == "codex-native"
    else:
        assert decision["resolved"] in ("api", "adapter")
        assert decision["fallback_from"] == "codex-native"
    assert decision["native"]["reason"]
    assert decision["native"]["capabilities"]["profile"] == "headless-limited"


@pytest.mark.scenarios("ok")
def test_auto_never_resolves_to_native(outcome: Outcome) -> None:
    env = {**_env(outcome), "CODEX_NATIVE_LANE": "1"}
    decision = resolve_backend("auto", policy=outcome.cell.policy, env=env).to_dict()
    has_key = CREDENTIAL_SETUPS[outcome.cell.credential].env_var is not None
    assert decision["resolved"] == ("api" if has_key else "adapter")
