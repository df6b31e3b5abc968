"""Projection rules on streams recorded from real builds: envelope, order, codexNative fields, usage sum
rule, tool_use/tool_result pairing, determinism — each checked through the strict reader too."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.lane.authority import Authority, derive_authority
from harness.lane.events import NormalizedEvent, Usage
from harness.lane.executable import Executable
from harness.lane.mapper import map_stream
from harness.lane.projection import ProjectionContext, anthropic_usage, project, to_jsonl
from harness.lane.reader import read_transcript

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUILDS = ("0.20.0", "0.42.0", "0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0")
ENVELOPE = ("uuid", "parentUuid", "isSidechain", "userType", "cwd", "sessionId", "version", "gitBranch",
            "timestamp", "type")
NATIVE_FIELDS = ("codexNativeThreadStatus", "codexNativeThreadId", "codexNativeWarningSource",
                 "codexNativeCompletionPolicy", "codexNativeHistoryCompleteness", "codexNativeFinalUsageAuthority",
                 "codexNativeExecutablePath", "codexNativeExecutableSource", "codexNativeExecutableVersion")
EXE = Executable(path="/opt/codex/bin/codex", source="explicit", version_line="codex-cli 0.117.0", version="0.117.0")


def clock() -> Callable[[], datetime]:
    ticks = itertools.count()
    start = datetime(2026, 4, 19, 12, 0, tzinfo=UTC)
    return lambda: start + timedelta(milliseconds=next(ticks))


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"id-{next(counter):04d}"


def ctx(policy: str = "persistent") -> ProjectionContext:
    return ProjectionContext(cwd="/work", session_id="sess-1", prompt="Reply only with OK", policy=policy,  # type: ignore[arg-type]
                             executable=EXE, model="gpt-fake", version="codex-native-lane/test", git_branch="main",
                             exit_code=0, protocol="thread-events")


def recorded(build: str, case: str) -> tuple[list[NormalizedEvent], Authority, ProjectionContext, list[dict[str, Any]]]:
    base = FIXTURES / f"codex-{build}" / case
    meta = json.loads(base.with_suffix(".meta.json").read_text())
    stream = map_stream(base.with_suffix(".stdout.jsonl").read_bytes(), base.with_suffix(".stderr.txt").read_bytes())
    authority = derive_authority(stream.events, policy=meta["policy"], exit_code=meta["exit_code"],
                                 timed_out=meta["timed_out"], protocol=stream.protocol)
    context = ctx(meta["policy"])
    rows = project(stream.events, authority, context, clock=clock(), new_id=ids())
    return list(stream.events), authority, context, rows


def subtypes(rows: list[dict[str, Any]]) -> list[str]:
    return [row.get("subtype", row["type"]) for row in rows]


def content_types(row: dict[str, Any]) -> list[str]:
    content = row["message"]["content"]
    return [c["type"] for c in content] if isinstance(content, list) else ["prompt"]


CASES = [(b, c) for b in BUILDS for c in ("ok-persistent", "tool-persistent", "unauthorized-persistent")] + [
    (b, c) for b in ("0.117.0", "0.169.0") for c in ("ok-ephemeral", "tool-ephemeral")]


@pytest.mark.parametrize(("build", "case"), CASES, ids=[f"codex-{b}-{c}" for b, c in CASES])
def test_recorded_stream_projects_to_a_transcript_the_reader_keeps_whole(build: str, case: str) -> None:
    _, authority, _, rows = recorded(build, case)
    result = read_transcript(to_jsonl(rows))
    assert result.dropped == [] and len(result.kept) == len(rows)
    assert not result.bom_lines and not result.partial_trailing_line
    for row in rows:
        assert all(key in row for key in ENVELOPE), row
        assert row["isSidechain"] is False and row["userType"] == "external"
        datetime.fromisoformat(row["timestamp"])
    assert len({row["uuid"] for row in rows}) == len(rows)
    assert [row["parentUuid"] for row in rows] == [None] + [row["uuid"] for row in rows[:-1]]
    for row in rows:
        if row["type"] == "system":
            assert row["isMeta"] is False and row["level"] and isinstance(row["content"], str)
            assert all(field in row for field in NATIVE_FIELDS), row
            assert row["codexNativeExecutablePath"] == EXE.path
            assert row["codexNativeExecutableVersion"] == "codex-cli 0.117.0"
    assert rows[-1]["codexNativeThreadStatus"] == authority.thread_status


@pytest.mark.parametrize("build", ("0.44.0", "0.117.0", "0.169.0"))
def test_row_order_of_a_tool_run(build: str) -> None:
    _, _, _, rows = recorded(build, "tool-persistent")
    kinds = subtypes(rows)
    assert kinds[0] == "codex_native_thread_status" and rows[0]["codexNativeThreadStatus"] == "running"
    assert kinds[1] == "user" and rows[1]["message"]["content"] == "Reply only with OK"
    warnings_end = 2 + sum(1 for k in kinds if k == "codex_native_warning")
    assert set(kinds[2:warnings_end]) <= {"codex_native_warning"}
    body = [content_types(r) for r in rows[warnings_end:-2]]
    assert body == [["tool_use"], ["tool_result"], ["text"]]
    assert kinds[-2:] == ["codex_native_execution_summary", "codex_native_thread_status"]
    assert rows[-1]["codexNativeThreadStatus"] == "completed" and rows[-1]["level"] == "info"


@pytest.mark.parametrize("build", ("0.117.0", "0.169.0"))
def test_tool_use_and_tool_result_pair(build: str) -> None:
    _, _, _, rows = recorded(build, "tool-persistent")
    uses = [(i, c) for i, r in enumerate(rows) if r["type"] == "assistant"
            for c in r["message"]["content"] if c["type"] == "tool_use"]
    results = [(i, c) for i, r in enumerate(rows) if r["type"] == "user" and isinstance(r["message"]["content"], list)
               for c in r["message"]["content"] if c["type"] == "tool_result"]
    assert len(uses) == len(results) == 1
    (use_at, use), (result_at, result) = uses[0], results[0]
    assert result["tool_use_id"] == use["id"] and result_at > use_at
    assert use["name"] == "command_execution" and "matrix-tool-ok" in use["input"]["command"]
    assert result["content"] == "matrix-tool-ok\n" and result["is_error"] is False
    assert rows[use_at]["message"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize(("build", "total"), [("0.44.0", 36), ("0.117.0", 36), ("0.169.0", 36), ("0.20.0", 36)])
def test_usage_sum_rule_and_placement(build: str, total: int) -> None:
    _, authority, _, rows = recorded(build, "tool-persistent")
    assistants = [r for r in rows if r["type"] == "assistant"]
    usage = [r["message"]["usage"] for r in assistants]
    assert usage[-1] == anthropic_usage(authority.usage)
    assert all(u == anthropic_usage(None) for u in usage[:-1])  # the cumulative total sits on the last row only
    summed = sum(u["input_tokens"] + u["cache_read_input_tokens"] + u["output_tokens"] for u in usage)
    assert authority.usage is not None and summed == authority.usage.total == total
    assert usage[-1]["input_tokens"] == authority.usage.input - authority.usage.cached
    assert usage[-1]["cache_read_input_tokens"] == authority.usage.cached
    assert assistants[-1]["message"]["stop_reason"] == "end_turn"
    summary = rows[-2]
    assert summary["codexNativeUsage"]["total_tokens"] == total


def test_assistant_row_shape() -> None:
    _, _, _, rows = recorded("0.117.0", "ok-persistent")
    (row,) = [r for r in rows if r["type"] == "assistant"]
    message = row["message"]
    assert row["requestId"].startswith("req_")
    assert {"role", "model", "id", "type", "stop_reason", "stop_sequence", "content", "usage"} <= set(message)
    assert (message["role"], message["type"], message["model"]) == ("assistant", "message", "gpt-fake")
    assert message["content"] == [{"type": "text", "text": "OK"}]
    assert message["usage"] == {"input_tokens": 8, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3,
                                "output_tokens": 7}


def test_warning_rows_keep_their_source() -> None:
    events = [NormalizedEvent("warning", {"source": "process", "text": "stderr line", "origin": "stderr"}),
              NormalizedEvent("warning", {"source": "history", "text": "thread/read failed", "origin": "stderr"}),
              NormalizedEvent("unsupported_raw_event", {"raw_type": "item.plan.delta", "payload": {"type": "x"}})]
    authority = derive_authority(events, policy="ephemeral", exit_code=0, timed_out=False)
    rows = project(events, authority, ctx("ephemeral"), clock=clock(), new_id=ids())
    warnings = [r for r in rows if r.get("subtype") == "codex_native_warning"]
    assert [w["codexNativeWarningSource"] for w in warnings] == ["process", "history", "process"]
    assert warnings[2]["codexNativeRawEvent"] == {"type": "item.plan.delta", "payload": {"type": "x"}}
    assert all(w["level"] == "warning" for w in warnings)


def test_failed_run_final_status_and_no_end_turn() -> None:
    _, authority, _, rows = recorded("0.169.0", "unauthorized-persistent")
    assert authority.thread_status == "failed"
    assert rows[-1]["codexNativeThreadStatus"] == "failed" and rows[-1]["level"] == "error"
    assert all(r["type"] != "assistant" for r in rows)
    assert rows[-2]["codexNativeUsage"] is None and rows[-2]["codexNativeFinalUsageAuthority"] == "none"


def test_interrupted_tool_gets_an_error_result() -> None:
    events = [NormalizedEvent("tool_started", {"item_id": "item_0", "kind": "command_execution", "command": "sleep 9",
                                               "input": {"command": "sleep 9"}})]
    authority = derive_authority(events, policy="persistent", exit_code=None, timed_out=True)
    rows = project(events, authority, ctx(), clock=clock(), new_id=ids())
    (result,) = [c for r in rows if r["type"] == "user" and isinstance(r["message"]["content"], list)
                 for c in r["message"]["content"]]
    assert result["is_error"] is True and "interrupted" in result["content"]
    assert rows[-1]["codexNativeThreadStatus"] == "interrupted" and rows[-1]["level"] == "warning"


def test_completion_without_start_and_failed_command() -> None:
    events = [NormalizedEvent("tool_completed", {"item_id": "f", "kind": "file_change", "command": "add a",
                                                 "output": "", "exit_code": None, "status": "failed"}),
              NormalizedEvent("tool_started", {"item_id": "c", "kind": "command_execution", "command": "false"}),
              NormalizedEvent("tool_completed", {"item_id": "c", "kind": "command_execution", "command": "false",
                                                 "output": "", "exit_code": 1, "status": "failed"})]
    authority = derive_authority(events, policy="persistent", exit_code=0, timed_out=False)
    rows = project(events, authority, ctx(), clock=clock(), new_id=ids())
    body = [(r["type"], r["message"]["content"][0]) for r in rows if r["type"] in ("assistant",)
            or (r["type"] == "user" and isinstance(r["message"]["content"], list))]
    assert [b[1]["type"] for b in body] == ["tool_use", "tool_result", "tool_use", "tool_result"]
    assert body[0][1]["name"] == "file_change" and body[1][1]["is_error"] is True
    assert body[2][1]["input"] == {"command": "false"} and body[3][1]["is_error"] is True


def test_deterministic_given_events_clock_and_ids() -> None:
    events, authority, context, rows = recorded("0.169.0", "tool-persistent")
    again = project(events, authority, context, clock=clock(), new_id=ids())
    assert to_jsonl(again) == to_jsonl(rows)
    assert rows[0]["timestamp"] == "2026-04-19T12:00:00.000Z"


def test_no_executable_and_no_usage() -> None:
    authority = Authority(thread_id=None, thread_status="failed", usage_authority="none",
                          history_completeness="live-only", usage=None, final_text=None, status_reason="refused: x")
    context = ProjectionContext(cwd=Path("/w"), session_id="s", prompt="p", policy="ephemeral", executable=None,
                                model=None, version="v", git_branch=None)
    rows = project([], authority, context, clock=clock(), new_id=ids())
    assert subtypes(rows) == ["codex_native_thread_status", "user", "codex_native_execution_summary",
                              "codex_native_thread_status"]
    assert rows[0]["codexNativeExecutablePath"] is None and rows[0]["gitBranch"] == ""
    assert read_transcript(to_jsonl(rows)).dropped == []


def test_lone_surrogate_is_written_as_valid_json() -> None:
    events = [NormalizedEvent("assistant_text", {"item_id": "i", "text": "bad \ud800 pair"}),
              NormalizedEvent("turn_completed", {})]
    authority = derive_authority(events, policy="ephemeral", exit_code=0, timed_out=False)
    data = to_jsonl(project(events, authority, ctx("ephemeral"), clock=clock(), new_id=ids()))
    result = read_transcript(data)
    assert result.dropped == []
    texts = [c["text"] for r in result.kept if r["type"] == "assistant" for c in r["message"]["content"]]
    assert texts == ["bad \ud800 pair"]


def test_anthropic_usage_sum() -> None:
    usage = Usage(input=23616, cached=20000, output=42, reasoning=10, cache_write=5)
    mapped = anthropic_usage(usage)
    assert mapped["input_tokens"] + mapped["cache_read_input_tokens"] + mapped["output_tokens"] == usage.total


@pytest.mark.parametrize("recorded", ["codex-0.169.0/flaky-stream-ephemeral", "codex-0.20.0/flaky-stream-persistent"])
def test_a_retried_stream_projects_one_reply(recorded: str) -> None:
    """Recorded from real builds: the cut attempt's "OK" is re-emitted after the retry notice."""
    from harness.lane.authority import derive_authority
    from harness.lane.mapper import map_stream

    stdout = (FIXTURES / f"{recorded}.stdout.jsonl").read_bytes()
    assert stdout.count(b'"OK"') == 2  # the build really printed the reply twice
    mapped = map_stream(stdout)
    policy = "ephemeral" if recorded.endswith("ephemeral") else "persistent"
    authority = derive_authority(mapped.events, policy=policy, exit_code=0, timed_out=False, protocol=mapped.protocol)
    ctx = ProjectionContext(cwd="/w", session_id="s", prompt="Reply only with OK", policy=policy, executable=None,
                            model=None, version="v", git_branch=None, exit_code=0, protocol=mapped.protocol)
    rows = project(mapped.events, authority, ctx, clock=clock(), new_id=ids())
    replies = [b["text"] for r in rows if r["type"] == "assistant" for b in r["message"]["content"]
               if b.get("type") == "text"]
    assert replies == ["OK"]
    notices = [r for r in rows if r.get("subtype") == "codex_native_warning"
               and ("retrying" in r["content"] or r["content"].startswith("Reconnecting"))]
    assert len(notices) == 1 and notices[0]["codexNativeWarningSource"] == "process"
    assert notices[0]["codexNativeRawEvent"] == {"type": "superseded-by-retry", "payload": ["OK"]}
    assert authority.final_text == "OK"
    if authority.usage is not None:
        assert (authority.usage.input, authority.usage.output) == (11, 7)  # counted once


# -- a command codex started and never reported finished ------------------------------------------------
# Recorded from codex-cli 0.130.0 (tests/fixtures/codex-0.130.0/tool-race-*): `sleep 0.3; echo …` run
# through exec_command, the follow-up answered at once; the command's item.completed never came.


@pytest.mark.parametrize("case", ["tool-race-ephemeral", "tool-race-persistent"])
def test_unreported_completion_is_an_unknown_outcome_not_a_dangling_call(case: str) -> None:
    events, authority, _, rows = recorded("0.130.0", case)
    assert authority.thread_status == "completed"
    assert [e.kind for e in events if e.kind.startswith("tool_")] == ["tool_started"]  # the loss itself
    warnings = [e.data for e in events if e.kind == "warning" and e.data.get("origin") == "tool-completion-missing"]
    assert len(warnings) == 1 and warnings[0]["source"] == "process"
    assert "item.completed" in warnings[0]["text"] and "sleep 0.3" in warnings[0]["text"]

    read = read_transcript(to_jsonl(rows))
    assert read.dropped == []  # claude_team's rules keep every row
    uses = [b for r in read.kept if r["type"] == "assistant" for b in r["message"]["content"]
            if b.get("type") == "tool_use"]
    results = [b for r in read.kept if r["type"] == "user" and isinstance(r["message"]["content"], list)
               for b in r["message"]["content"] if b.get("type") == "tool_result"]
    assert len(uses) == 1 and [r["tool_use_id"] for r in results] == [uses[0]["id"]]
    assert results[0]["is_error"] is True
    assert results[0]["content"].startswith("outcome unknown") and "item.completed" in results[0]["content"]
    warning_rows = [r for r in read.kept if r.get("subtype") == "codex_native_warning"]
    assert any("item.completed" in r["content"] and r["codexNativeWarningSource"] == "process" for r in warning_rows)
    # the reply after the command is still the turn's answer
    assert authority.final_text == "OK"


def test_a_reported_completion_adds_no_unknown_outcome() -> None:
    events, _, _, rows = recorded("0.130.0", "tool-ephemeral")
    assert not [e for e in events if e.data.get("origin") == "tool-completion-missing"]
    results = [b for r in rows if r["type"] == "user" and isinstance(r["message"]["content"], list)
               for b in r["message"]["content"] if b.get("type") == "tool_result"]
    assert results and all(not r["content"].startswith("outcome unknown") for r in results)


def test_a_run_cut_short_is_not_an_unreported_completion() -> None:
    """No turn end (the timeout killed codex mid-command): the tool did not complete, nothing is 'unknown'."""
    stdout = (FIXTURES / "codex-0.130.0" / "tool-race-ephemeral.stdout.jsonl").read_bytes()
    cut = b"".join(line for line in stdout.splitlines(keepends=True) if b"turn.completed" not in line)
    stream = map_stream(cut)
    assert not [e for e in stream.events if e.data.get("origin") == "tool-completion-missing"]
