"""The lane judged against the fake world: every field the lane reports is compared with what the API
sent (its journal) or what codex printed, never only with another output of the lane.

The oracles are in :mod:`harness.suite.oracle`. A lane that reads a renamed usage key (its projection
and its hydration then agree on 0), keeps the first usage report instead of the last, picks the wrong
reply, loses a command's output or mislabels the verdict passes the older self-consistency tests and
fails these.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from harness.fakeapi.scenarios import SCENARIOS, SUCCESS_SCENARIOS
from harness.lane.projection import SUMMARY_SUBTYPE
from harness.redact import Redactor
from harness.suite.cellrun import PROMPT, Outcome
from harness.suite.expectations import expected_history
from harness.suite.oracle import (
    OPTIONAL_USAGE_KEYS,
    journal_verdict,
    printed,
    printed_usage,
    returned_tool_outputs,
    sent_reply,
    sent_texts,
    sent_tool_calls,
    sent_usage,
)

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


def _rows(outcome: Outcome, kind: str) -> list[dict]:
    return [r for r in outcome.read.kept if r["type"] == kind]


def _summary_row(outcome: Outcome) -> dict:
    rows = [r for r in _rows(outcome, "system") if r.get("subtype") == SUMMARY_SUBTYPE]
    assert len(rows) == 1, f"{len(rows)} execution summary rows"
    return rows[0]


def _stdout(outcome: Outcome) -> bytes:
    seam = outcome.result.seam
    assert seam is not None, f"the lane did not run codex: {outcome.result.refused}"
    return seam.stdout


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_usage_is_what_the_api_sent(outcome: Outcome) -> None:
    """Input, cached, output (and reasoning / cache write where the build reports them) as the API sent
    them, summed over the turn's completed responses: in the lane's authority, its summary, the
    summary row and the last assistant row (Anthropic names), with every other assistant row at zero."""
    sent = sent_usage(outcome.turns)
    assert sent.responses >= 1, "the API completed no response"
    raw = printed_usage(_stdout(outcome))
    assert raw is not None, "codex printed no turn.completed usage"
    usage = outcome.result.authority.usage
    assert usage is not None, "the lane reports no usage"
    got = {"input": usage.input, "cached": usage.cached, "output": usage.output}
    want = {"input": sent.input, "cached": sent.cached, "output": sent.output}
    for name, key in OPTIONAL_USAGE_KEYS.items():  # reported only by builds that print the key
        got[name] = getattr(usage, name)
        want[name] = getattr(sent, name) if key in raw else None
    assert got == want, f"lane usage {got}, the API sent {want} over {sent.responses} response(s)"
    codex_names = {"input_tokens": sent.input, "cached_input_tokens": sent.cached, "output_tokens": sent.output,
                   "reasoning_output_tokens": want["reasoning"], "cache_write_input_tokens": want["cache_write"],
                   "total_tokens": sent.input + sent.output}
    assert outcome.result.summary()["usage"] == codex_names
    assert _summary_row(outcome)["codexNativeUsage"] == codex_names
    assistants = _rows(outcome, "assistant")
    assert assistants, "no assistant row"
    assert assistants[-1]["message"]["usage"] == {
        "input_tokens": sent.input - sent.cached, "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": sent.cached, "output_tokens": sent.output}
    for row in assistants[:-1]:
        assert not any(row["message"]["usage"].values()), f"usage on a row other than the last: {row['message']}"


@pytest.mark.kinds("legacy")
@pytest.mark.needs("projection", "policy")
@pytest.mark.policies("persistent")
@pytest.mark.scenarios("ok", "tool", "retry-after-tool")
def test_legacy_turn_is_what_the_api_sent(outcome: Outcome) -> None:
    """Legacy builds report usage per request (``token_count``); the lane's running total (never
    authoritative) must still be the API's sum, and the last report, not the first. The reply, the text
    and thinking rows (completed responses only: a retry's ``background_event`` supersedes its attempt)
    and each command's output are the API's too."""
    result = outcome.result
    assert result.seam is not None, f"the lane did not run codex: {result.refused}"
    sent = sent_usage(outcome.turns)
    if result.authority.thread_status != "completed" or sent.responses == 0:
        pytest.skip(f"no completed turn to count on this build ({result.authority.status_reason})")
    usage = result.authority.usage
    assert usage is not None, "a completed legacy turn with no usage report"
    assert (usage.input, usage.output) == (sent.input, sent.output), (usage, sent)
    assert result.authority.usage_authority == "none"
    assert result.authority.final_text == sent_reply(outcome.turns)
    blocks = [b for r in _rows(outcome, "assistant") for b in r["message"]["content"]]
    assert [b["text"] for b in blocks if b.get("type") == "text"] == sent_texts(outcome.turns)
    thoughts = [_plain(b["thinking"]) for b in blocks if b.get("type") == "thinking"]
    assert thoughts == [_plain(t) for t in sent_texts(outcome.turns, "reasoning")], thoughts
    completed = [e.data for e in result.mapped.events if e.kind == "tool_completed"]
    assert len(completed) == len(sent_tool_calls(outcome.turns))
    returned = returned_tool_outputs(outcome.turns)
    for done in completed:
        output = str(done.get("output", "")).strip()
        assert output and any(output in text for text in returned), (output, returned)


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_final_text_is_the_reply_the_api_sent(outcome: Outcome) -> None:
    """The final text is the last message the API sent, in the authority, the summary row and the last
    assistant text row (which ends the turn); the text rows are the messages of the completed responses,
    once each and in order (a preamble before a tool call stays, a retried attempt's text goes)."""
    reply = sent_reply(outcome.turns)
    assert reply is not None, "the API sent no message"
    assert outcome.result.authority.final_text == reply
    assert _summary_row(outcome)["codexNativeFinalText"] == reply
    texts = [(r, b["text"]) for r in _rows(outcome, "assistant") for b in r["message"]["content"]
             if b.get("type") == "text"]
    want = sent_texts(outcome.turns)
    assert [t for _, t in texts] == want, f"assistant text rows {[t for _, t in texts]}, the API's messages {want}"
    assert texts[-1][0]["message"]["stop_reason"] == "end_turn"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_thinking_rows_are_the_reasoning_of_completed_responses(outcome: Outcome) -> None:
    """Each thinking row is the reasoning summary of a response that completed, once each, in order: the
    reasoning of an attempt a retry superseded is gone. codex prints reasoning as ``reasoning`` items
    (``agent_reasoning`` on legacy builds); where a build printed none of what the API sent, that is
    codex's doing, and the test says so."""
    thoughts = [b["thinking"] for r in _rows(outcome, "assistant") for b in r["message"]["content"]
                if b.get("type") == "thinking"]
    want = sent_texts(outcome.turns, "reasoning")
    if not want:
        assert thoughts == [], f"thinking rows {thoughts}, yet the API sent no reasoning"
        return
    shown = [str(o["item"].get("text", "")) for o in printed(_stdout(outcome), "item.completed")
             if isinstance(o.get("item"), dict) and o["item"].get("type") == "reasoning"]
    if not shown:
        assert thoughts == [], f"thinking rows {thoughts}, yet codex printed no reasoning"
        pytest.skip(f"codex {outcome.cell.version} printed none of the {len(want)} reasoning item(s) the API sent")
    assert [_plain(t) for t in thoughts] == [_plain(t) for t in want], (
        f"thinking rows {thoughts}, the completed responses' reasoning {want} (codex printed {shown})")


def _plain(text: str) -> str:
    """Reasoning text without the markup some builds add around a summary (``**title**``, blank lines)."""
    return " ".join(text.replace("*", " ").split())


@pytest.mark.kinds("full_contract")
def test_verdict_is_what_the_fake_world_did(outcome: Outcome) -> None:
    """Thread status from how the API answered the turn's last request (and the wrapper's exit code,
    where one overrides codex's): in the authority, the summary row and the final status row; usage
    authority from whether codex printed turn.completed; history completeness from the policy."""
    result = outcome.result
    stdout = _stdout(outcome)
    want = journal_verdict(outcome.turns)
    assert want is not None, "no request reached the API"
    variant = outcome.variant
    if want == "completed" and variant is not None and variant.wrapper_exit not in (None, 0):
        want = "failed"  # codex completed the turn, its wrapper then exited non-zero
    authority = result.authority
    final = outcome.read.kept[-1]
    got = {"status": authority.thread_status, "summary": _summary_row(outcome)["codexNativeThreadStatus"],
           "final row": final["codexNativeThreadStatus"], "sign-off": result.summary()["thread_status"]}
    assert got == dict.fromkeys(got, want), f"the API's last answer says {want}: {got}"
    completed = [o for o in printed(stdout, "turn.completed") if isinstance(o.get("usage"), dict)]
    usage_authority = "live-turn-completed" if completed else "none"
    assert authority.usage_authority == usage_authority == final["codexNativeFinalUsageAuthority"]
    history = authority.history_completeness
    assert history == final["codexNativeHistoryCompleteness"]
    if not (variant is not None and variant.tampered):
        assert history in expected_history(outcome.cell.policy, want)


@pytest.mark.kinds("full_contract")
def test_turn_failed_is_reported_as_codex_printed_it(outcome: Outcome) -> None:
    """Every ``turn.failed`` codex printed is one ``turn_failed`` event with its message, and decides a
    failed status whatever the exit code; a stream without one has no ``turn_failed``."""
    result = outcome.result
    failed = printed(_stdout(outcome), "turn.failed")
    mapped = [e for e in result.mapped.events if e.kind == "turn_failed"]
    redact = Redactor([result.credential.key] if result.credential.key else [])
    want = [redact(str((e.get("error") or {}).get("message", ""))) for e in failed]
    assert [str(e.data.get("message")) for e in mapped] == want
    if failed:
        assert result.authority.thread_status == "failed"
        assert result.authority.status_reason.startswith("turn.failed"), result.authority.status_reason
        assert result.authority.final_text is None


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tool", "write-file", "retry-after-tool", "leftover-child")
def test_tool_calls_are_what_the_api_asked_and_got(outcome: Outcome) -> None:
    """One tool_use per call the API made, with the command it asked for, and each tool_result carries
    the output codex sent back to the API."""
    calls = sent_tool_calls(outcome.turns)
    assert calls, "the API called no tool"
    uses = [b for r in _rows(outcome, "assistant") for b in r["message"]["content"] if b.get("type") == "tool_use"]
    assert len(uses) == len(calls), f"{len(uses)} tool_use blocks for {len(calls)} calls the API made"
    started = [e.data for e in outcome.result.mapped.events if e.kind == "tool_started"]
    assert [u["input"] for u in uses] == [s["input"] for s in started]
    results = [b for r in _rows(outcome, "user") if isinstance(r["message"].get("content"), list)
               for b in r["message"]["content"] if b.get("type") == "tool_result"]
    returned = returned_tool_outputs(outcome.turns)
    completed = [e.data for e in outcome.result.mapped.events if e.kind == "tool_completed"]
    for done in completed:
        output = str(done.get("output", "")).strip()
        assert any(output in text for text in returned), (
            f"the lane's output {output[:200]!r} is not what codex sent the API: {[t[:200] for t in returned]}")
        assert any(b["content"] == done.get("output") for b in results), f"no tool_result carries {output[:200]!r}"
    # each command as codex printed it: its command line, and whether it failed
    items = {str(o["item"].get("id")): o["item"] for o in printed(_stdout(outcome), "item.completed")
             if isinstance(o.get("item"), dict) and o["item"].get("type") == "command_execution"}
    by_id = {str(d.get("item_id")): d for d in completed}
    assert sorted(by_id) == sorted(items), "the lane's commands are not the ones codex printed"
    for item_id, item in items.items():
        assert by_id[item_id]["command"] == item.get("command"), (by_id[item_id], item)
    assert sorted(json.dumps(u["input"]) for u in uses) == sorted(
        json.dumps({"command": i.get("command")}) for i in items.values()), "tool_use inputs are not codex's commands"
    errors = [b["is_error"] for b in results]
    want = [items[i].get("status") != "completed" or items[i].get("exit_code") != 0 for i in by_id]
    assert sorted(errors) == sorted(want), f"tool_result is_error {errors}, codex printed {want}"


def _rollout_truth(data: bytes) -> tuple[str | None, dict | None]:
    """The last assistant text and usage total of a rollout, read here, not with the lane's reader."""
    text, usage = None, None
    for raw in data.splitlines():
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        payload = obj.get("payload") if isinstance(obj, dict) else None
        if not isinstance(payload, dict):
            continue
        if payload.get("type") == "agent_message" and isinstance(payload.get("message"), str):
            text = payload["message"]
        if payload.get("type") == "task_complete" and isinstance(payload.get("last_agent_message"), str):
            text = payload["last_agent_message"]
        if obj.get("type") == "response_item" and payload.get("role") == "assistant":
            parts = [c.get("text") for c in payload.get("content") or [] if isinstance(c, dict)]
            text = "".join(p for p in parts if isinstance(p, str))
        if payload.get("type") == "token_count" and isinstance(payload.get("info"), dict):
            usage = payload["info"].get("total_token_usage") or usage
    return text, usage


@pytest.mark.kinds("full_contract")
@pytest.mark.needs("projection", "policy")
@pytest.mark.policies("persistent")
@pytest.mark.scenarios(*(s for s in SUCCESS_SCENARIOS if SCENARIOS[s].variant != "wrap-tamper"))
def test_hydrated_history_agrees_with_the_api(outcome: Outcome) -> None:
    """``hydrated`` is claimed only for a rollout that says what the API sent: its last reply and its
    usage total (read from the file here, so a key both the live stream and hydration misread shows)."""
    result = outcome.result
    assert result.authority.history_completeness == "hydrated", result.warnings
    assert result.hydration is not None and result.hydration.rollout_path is not None
    text, usage = _rollout_truth(result.hydration.rollout_path.read_bytes())
    sent = sent_usage(outcome.turns)
    assert text == sent_reply(outcome.turns), f"rollout's last reply {text!r}"
    assert usage is not None, "the rollout has no token_count total"
    got = (usage.get("input_tokens"), usage.get("cached_input_tokens"), usage.get("output_tokens"))
    assert got == (sent.input, sent.cached, sent.output), f"rollout usage {usage}, the API sent {sent}"


@pytest.mark.kinds("thread_stream")
def test_thread_and_envelope_are_the_runs(outcome: Outcome) -> None:
    """Every row names the thread codex printed (thread.started), the run's working directory and
    policy as the harness set them, the prompt the harness sent, and the envelope claude_team's readers
    expect (not a sidechain, an external user, timestamps in order)."""
    result = outcome.result
    started = printed(_stdout(outcome), "thread.started")
    assert started, "codex printed no thread.started"
    thread_id = started[0].get("thread_id")
    assert result.authority.thread_id == thread_id
    rows = outcome.read.kept
    assert {r["sessionId"] for r in rows} == {thread_id}
    assert {r["cwd"] for r in rows} == {str(result.request.cwd)}
    assert all(r["isSidechain"] is False and r["userType"] == "external" for r in rows)
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps), "row timestamps go backwards"
    systems = _rows(outcome, "system")
    assert all(r["codexNativeThreadId"] == thread_id and r["isMeta"] is False for r in systems)
    assert {r["codexNativeCompletionPolicy"] for r in systems} == {outcome.cell.policy}
    prompt = rows[1]
    assert prompt["type"] == "user" and prompt["message"] == {"role": "user", "content": PROMPT}
    # the model on assistant rows: the one the harness configured, which is the one codex asked the API for
    config = tomllib.loads((Path(result.request.codex_home) / "config.toml").read_text(encoding="utf-8"))
    configured = config.get("model")
    if configured is not None:
        assert {e.get("model") for e in outcome.turns} <= {configured}
    assert {r["message"]["model"] for r in _rows(outcome, "assistant")} <= {configured or "codex"}


@pytest.mark.kinds("full_contract")
def test_exit_code_on_the_summary_is_the_process(outcome: Outcome) -> None:
    """The summary row's exit code is the one the world makes codex (or its wrapper) end with."""
    want = SCENARIOS[outcome.scenario].outcome.exit_code
    summary = _summary_row(outcome)
    assert summary["codexNativeExitCode"] == want
    assert summary["codexNativeProtocol"] == "thread-events"
