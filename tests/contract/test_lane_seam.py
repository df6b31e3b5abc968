"""The contract every lane driven through its adapter is held to: what its user gets from one turn.

These tests need only the ``seam`` capability (a lane that reports its events, answer, usage and how the
run ended, in the protocol's words: docs/lane-protocol.md), so they judge any consumer of
``codex exec --json``: OpenAI's TypeScript SDK, a user's script. Each message names the lane, the build,
the scenario, how the run ended and what the fake API saw, so a failure reads the same for every lane.

Expectation kinds (matrix.yaml): ``native`` (answers every turn, reports every failure the API returns),
``lane-unsupported``, ``lane-silent-empty`` and ``lane-base-url-cliff`` (the measured ways a build and a
lane version do not work together; harness.suite.expectations.LANE_OUTCOMES lists the outcomes each allows).
"""

from __future__ import annotations

import pytest

from harness.suite.cellrun import REPLY
from harness.suite.expectations import LANE_OUTCOMES
from harness.suite.lanerun import LaneOutcome

pytestmark = [pytest.mark.needs("seam"), pytest.mark.through_adapter]
#: The events of a turn every lane must have seen, in this order, when it answered.
TURN = ("thread.started", "turn.started", "item.completed", "turn.completed")


def _in_order(seen: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    it = iter(seen)
    return all(any(e == w for e in it) for w in wanted)


def test_the_lane_is_the_one_asked_for(outcome: LaneOutcome) -> None:
    """The adapter ran the lane the cell names (not another SDK version), or said why it could not."""
    got = outcome.result.lane
    if outcome.lane.path is not None:  # a user's own lane names itself as it likes
        return
    assert outcome.result.outcome == "crash" or got.split(":")[0] == outcome.lane.full.split(":")[0], (
        f"{outcome.describe()}: the adapter answered as {got!r}, not {outcome.lane.full!r}")


def test_the_run_ended_within_its_timeout(outcome: LaneOutcome) -> None:
    """No run outlives its hard kill: a lane that never answers is reported as ``hang`` and killed."""
    wall = outcome.result.wall_s
    assert wall is not None and wall <= outcome.kill_s + 5, (
        f"{outcome.describe()}: took {wall} s, past the hard kill at {outcome.kill_s:g} s")


@pytest.mark.kinds("full_contract")
def test_the_lane_did_not_break(outcome: LaneOutcome) -> None:
    """The lane itself never crashes on a build it supports: a crash is the lane's bug, not codex's."""
    assert outcome.result.outcome != "crash", f"{outcome.describe()}; adapter stderr: " \
                                              f"{outcome.result.adapter_stderr.strip()[-300:]!r}"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("ok", "tool")
def test_the_lane_answers_what_the_api_sent(outcome: LaneOutcome) -> None:
    """A turn the API answers gives the lane's user that answer: ``ok`` with the fake model's reply."""
    r = outcome.result
    assert r.outcome == "ok" and (r.final_text or "").strip() == REPLY, (
        f"{outcome.describe()}: expected ok with {REPLY!r}")
    assert outcome.turns and all(t.get("credential") == "valid" for t in outcome.turns), (
        f"{outcome.describe()}: the API must have answered the lane's key")


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("ok", "tool")
def test_the_lane_saw_the_whole_turn(outcome: LaneOutcome) -> None:
    """The events reached the lane's user in order: thread, turn, items, the turn's end with usage."""
    r = outcome.result
    assert _in_order(r.events, TURN), f"{outcome.describe()}: missing {TURN} in order"
    assert r.thread_id, f"{outcome.describe()}: no thread id"
    assert r.usage and r.usage.get("input_tokens", 0) > 0, f"{outcome.describe()}: no usage ({r.usage})"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tool")
def test_the_lane_saw_the_command(outcome: LaneOutcome) -> None:
    """The tool round trip showed: the command's start and completion before the answer."""
    assert _in_order(outcome.result.events, ("item.started", "item.completed", "item.completed")), (
        f"{outcome.describe()}: no command item before the answer")
    assert len(outcome.turns) >= 2, f"{outcome.describe()}: the command's output never went back to the API"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("unauthorized", "server-error")
def test_the_lane_reports_what_the_api_refused(outcome: LaneOutcome) -> None:
    """A turn the API refuses (401, 500) is a reported failure, never a silent empty answer or a hang."""
    r = outcome.result
    assert r.outcome == "exit-nonzero" and r.error, f"{outcome.describe()}: expected exit-nonzero with its error"
    assert outcome.turns, f"{outcome.describe()}: the API never saw the turn, so it cannot have refused it"


@pytest.mark.kinds("lane_failure")
def test_a_known_incompatibility_fails_as_measured(outcome: LaneOutcome) -> None:
    """Where a build and this lane version do not work together (matrix.yaml's reason says why), the lane
    fails the way it was measured to, so a change in either direction shows as a red cell."""
    allowed = LANE_OUTCOMES[outcome.cell.expect]
    assert outcome.result.outcome in allowed, (
        f"{outcome.describe()}: expected {' or '.join(allowed)} ({outcome.cell.expect}: {outcome.cell.expect_reason})")


@pytest.mark.kinds("api_unreached")
def test_the_api_never_saw_a_turn(outcome: LaneOutcome) -> None:
    """An unsupported build or a base URL the build ignores never reaches the lane's endpoint."""
    assert not outcome.turns, f"{outcome.describe()}: the API saw the turn, so the incompatibility is gone"
