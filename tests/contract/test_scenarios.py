"""Every fake-API scenario on every native build: events, final status, usage authority, exit, no hang."""

from __future__ import annotations

import pytest

from harness.fakeapi.scenarios import SCENARIOS, SUCCESS_SCENARIOS, TOOL_MARKER
from harness.suite.cellrun import REPLY, Outcome

# A run may overshoot its timeout by the kill grace period and process teardown, never by more.
TIMEOUT_SLACK_S = 8.0


@pytest.mark.expects("native")
def test_scenario_outcome(outcome: Outcome) -> None:
    want = vars(SCENARIOS[outcome.scenario].outcome)
    result = outcome.result
    assert result.seam is not None, f"the lane did not run codex: {result.refused}"
    got = {
        "status": result.authority.thread_status,
        "exit_code": result.seam.exit_code,
        "usage_authority": result.authority.usage_authority,
    }
    assert got == want


@pytest.mark.expects("native", "legacy-fallback", "auth-required", "auth-rejected")
def test_no_hang_past_timeout(outcome: Outcome) -> None:
    assert outcome.wall_s <= outcome.timeout_s + TIMEOUT_SLACK_S, (
        f"the lane took {outcome.wall_s:.1f}s with a {outcome.timeout_s:.0f}s timeout"
    )


@pytest.mark.expects("native")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_final_text_and_usage(outcome: Outcome) -> None:
    auth = outcome.result.authority
    assert auth.final_text == REPLY
    assert auth.usage is not None and auth.usage.input > 0 and auth.usage.output > 0


@pytest.mark.expects("native")
@pytest.mark.scenarios("tool", "tool-race")
def test_tool_round_trip(outcome: Outcome) -> None:
    """Every shell call the fake model made ran, and each shows its completion in the stream."""
    calls = [e for e in outcome.journal if e.get("tool_called")]
    assert calls, f"the fake model never called a tool; tools declared: {outcome.facts.tools_declared}"
    started = [e for e in outcome.result.mapped.events if e.kind == "tool_started"]
    completed = [e for e in outcome.result.mapped.events if e.kind == "tool_completed"]
    assert len(completed) == len(calls), (
        f"command item.completed missing for {len(calls) - len(completed)} of {len(calls)} tool calls "
        f"({len(started)} started)")
    for event in completed:
        tool = event.data
        assert TOOL_MARKER in str(tool.get("command")), tool
        assert TOOL_MARKER in str(tool.get("output")), tool
        assert tool.get("exit_code") == 0, tool
    assert any(e.get("has_tool_output") for e in outcome.journal), "the tool output never reached the API"


@pytest.mark.expects("native")
@pytest.mark.scenarios("unauthorized", "server-error", "rate-limited", "disconnect")
def test_failure_is_reported(outcome: Outcome) -> None:
    failed = [e for e in outcome.result.mapped.events if e.kind == "turn_failed"]
    assert failed and failed[-1].data.get("message"), "no turn_failed event with a message"
