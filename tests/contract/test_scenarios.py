"""Every fake-API scenario on every native build: events, final status, usage authority, exit, no hang."""

from __future__ import annotations

import json

import pytest

from harness.fakeapi.scenarios import SCENARIOS, SUCCESS_SCENARIOS
from harness.fakeapi.wire import TOOL_MARKER, USAGE
from harness.lane.retries import RETRY_NOTICE
from harness.redact import Redactor
from harness.suite.cellrun import REPLY, Outcome
from harness.suite.oracle import sent_reply, sent_texts

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")

# A run may overshoot its timeout by the kill grace period and process teardown, never by more.
TIMEOUT_SLACK_S = 8.0


@pytest.mark.kinds("full_contract")
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


@pytest.mark.kinds("starts_codex")
def test_no_hang_past_timeout(outcome: Outcome) -> None:
    assert outcome.wall_s <= outcome.timeout_s + TIMEOUT_SLACK_S, (
        f"the lane took {outcome.wall_s:.1f}s with a {outcome.timeout_s:.0f}s timeout"
    )


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_final_text_and_usage(outcome: Outcome) -> None:
    auth = outcome.result.authority
    assert auth.final_text == sent_reply(outcome.turns)
    assert auth.usage is not None and auth.usage.input > 0 and auth.usage.output > 0


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tool", "tool-race")
def test_tool_round_trip(outcome: Outcome) -> None:
    """Every shell call the fake model made ran, and each shows its completion and output in the stream."""
    if not outcome.facts.world_held:
        pytest.skip(f"no turn ended at once in {outcome.facts.stagings} stagings: the last ended "
                    f"{outcome.facts.turn_after_command_s} s after its command (the race needs <= "
                    f"{SCENARIOS[outcome.scenario].turn_within_s} s); the machine is too loaded to stage it now")
    calls = [e for e in outcome.turns if e.get("tool_called")]
    assert calls, f"the fake model never called a tool; tools declared: {outcome.facts.tools_declared}"
    started = [e for e in outcome.result.mapped.events if e.kind == "tool_started"]
    completed = [e for e in outcome.result.mapped.events if e.kind == "tool_completed"]
    assert len(completed) == len(calls), (
        f"command item.completed missing for {len(calls) - len(completed)} of {len(calls)} tool calls "
        f"({len(started)} started)")
    empty = [e.data for e in completed if TOOL_MARKER not in str(e.data.get("output"))]
    assert not empty, f"command output lost: {len(empty)} of {len(completed)} completed commands show no output"
    for event in completed:
        tool = event.data
        assert TOOL_MARKER in str(tool.get("command")), tool
        assert tool.get("exit_code") == 0, tool
    assert any(e.get("has_tool_output") for e in outcome.turns), "the tool output never reached the API"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tool", "tool-race")
def test_every_command_is_answered_truthfully(outcome: Outcome) -> None:
    """Each command the fake asked for is one tool_use with one tool_result: its output when codex
    reported the command's end, else an error result saying the outcome is unknown, with a process
    warning naming the missing event (0.117.0–0.145.0 drop a slow command's item.completed when the
    answer follows at once; ``test_tool_round_trip`` is their known regression, so there this test
    checks the lost path, and the normal one everywhere else)."""
    calls = [e for e in outcome.turns if e.get("tool_called")]
    events = outcome.result.mapped.events
    started = {str(e.data["item_id"]) for e in events if e.kind == "tool_started"}
    completed = {str(e.data["item_id"]) for e in events if e.kind == "tool_completed"}
    uses = [(r.get("codexNativeItemId"), b) for r in outcome.read.kept if r["type"] == "assistant"
            for b in r["message"]["content"] if b.get("type") == "tool_use"]
    results = {b["tool_use_id"]: b for r in outcome.read.kept
               if r["type"] == "user" and isinstance(r["message"].get("content"), list)
               for b in r["message"]["content"] if b.get("type") == "tool_result"}
    assert len(uses) == len(calls) == len(started), (
        f"{len(calls)} calls by the fake, {len(started)} commands started by codex, {len(uses)} tool_use blocks")
    missing = [str(w.data.get("text")) for w in outcome.result.warnings
               if w.data.get("origin") == "tool-completion-missing"]
    assert len(missing) == len(started - completed), missing
    assert all(w.data.get("source") == "process" for w in outcome.result.warnings
               if w.data.get("origin") == "tool-completion-missing")
    for item_id, use in uses:
        result = results.get(use["id"])
        assert result is not None, f"tool_use {use['id']} has no tool_result"
        if item_id in completed:
            assert TOOL_MARKER in str(result["content"]), f"command output lost: its tool_result is {result}"
            assert result["is_error"] is False, result
        else:
            assert result["is_error"] is True and "item.completed" in str(result["content"]), result
    for text in missing:
        assert "item.completed" in text and "outcome is unknown" in text, text
    assert outcome.result.authority.final_text == REPLY


def _replies(outcome: Outcome) -> list[str]:
    return [b["text"] for r in outcome.read.kept if r["type"] == "assistant"
            for b in r["message"]["content"] if b.get("type") == "text"]


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_one_reply_per_answer(outcome: Outcome) -> None:
    """Each message of a response the fake completed shows once, whatever a retry re-emitted; the plain
    worlds answer with the one reply."""
    want = sent_texts(outcome.turns)
    assert _replies(outcome) == want
    if outcome.scenario not in ("retry-after-tool",):
        assert want == [REPLY], want


@pytest.mark.kinds("full_contract")
def test_retry_notices_are_process_warnings(outcome: Outcome) -> None:
    """Every retry notice codex printed is a process warning, and none is invented."""
    lines = outcome.result.seam.stdout.decode("utf-8", "replace").splitlines() if outcome.result.seam else []
    printed = [json.loads(line)["message"] for line in lines
               if line.startswith('{"type":"error"') and RETRY_NOTICE.search(json.loads(line).get("message", ""))]
    warned = [str(w.data["text"]) for w in outcome.result.warnings if w.data.get("origin") == "retry"]
    assert warned == [Redactor()(text) for text in printed]  # the lane masks key-shaped text it maps
    assert all(w.data.get("source") == "process" for w in outcome.result.warnings if w.data.get("origin") == "retry")
    if outcome.scenario in ("flaky-stream", "retry-after-tool"):
        assert printed, "a stream was cut after its message, yet codex printed no retry notice"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("flaky-stream", "flaky-request")
def test_the_retry_happened(outcome: Outcome) -> None:
    attempts = [e["attempt"] for e in outcome.turns]
    assert attempts[:2] == [1, 2], f"requests seen: {attempts}"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_usage_counted_once(outcome: Outcome) -> None:
    """codex's usage is the sum over the responses that completed, never over failed attempts."""
    completed = sum(1 for e in outcome.turns if e.get("completed"))
    usage = outcome.result.authority.usage
    assert usage is not None and completed >= 1
    assert (usage.input, usage.output) == (USAGE["input_tokens"] * completed, USAGE["output_tokens"] * completed)
