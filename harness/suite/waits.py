"""The one rule for "this lane run only waits for the lane's timeout", and the timeout each run gets.

Three places need it and once each had their own version: the contract suite's scheduler (a run that
only waits gets its own thread instead of a compute worker, :mod:`harness.suite.schedule`), the
shards' cost model (such a run lasts its whole timeout, :func:`harness.matrix.shard.lane_cost`) and
the lane run's own budget (:func:`timeout_for`). The expectation kind's properties say what a build
does differently (:class:`~harness.suite.expectations.ExpectationKind`), so no kind is named here.

Standard library only: runs inside the per-version containers.
"""

from __future__ import annotations

from harness.fakeapi.scenarios import SCENARIOS
from harness.lane.executable import release_of
from harness.lanes.catalog import parse_lane
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.expectations import EXPECTATIONS, legacy_key_reaches_api, legacy_outcome
from harness.suite.policies import is_ephemeral
from harness.suite.protocol import CellSpec, SuiteTimeouts


def ends_by_timeout(cell: CellSpec, scenario: str) -> bool:
    """True when the contract expects this (cell, scenario) to end only by the lane's timeout."""
    if cell.foreign:
        # a lane cut off from the API waits out codex's retries (30-60 s) or its timeout, and a documented-mode
        # run (the SDK's baseUrl, codex's own provider) waits on codex's WebSocket attempts and retries even
        # when it answers (6-15 s, measured): neither may hold a compute worker. compat judges every pair as
        # native, so the mode, not only the expectation, tells.
        return EXPECTATIONS[cell.expect].api_unreached or SCENARIOS[scenario].waits or \
            parse_lane(cell.lane).mode == "documented"
    kind = EXPECTATIONS[cell.expect]
    if is_ephemeral(cell.policy) and kind.refuses_ephemeral:
        return False
    spec = SCENARIOS[scenario]
    if not spec.starts_codex:  # the lane refuses before codex runs: nothing to wait for
        return False
    setup = CREDENTIAL_SETUPS[cell.credential]
    if kind.legacy:
        version = release_of(cell.version) or (0, 0, 0)
        authorised = legacy_key_reaches_api(version, setup.api_sees, setup.env_var)
        return legacy_outcome(version, authorised, spec.succeeds, spec.waits, spec.refuses)["status"] == "interrupted"
    # the fake API refuses a missing or invalid key with 401 before any scenario: such a run fails at once
    return spec.waits and setup.api_sees == "valid"


def timeout_for(cell: CellSpec, scenario: str, timeouts: SuiteTimeouts) -> float:
    """The lane's timeout for one run: the short one where a run may end only by it (a scenario that
    waits on purpose, and any legacy build: 0.20 hangs on errors and no legacy build prints a terminal
    event), so every run :func:`ends_by_timeout` names waits the short time; the long one elsewhere."""
    if SCENARIOS[scenario].waits or EXPECTATIONS[cell.expect].legacy:
        return timeouts.hang_s
    return timeouts.codex_s
