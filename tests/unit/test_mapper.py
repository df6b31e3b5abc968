"""Mapper tests on streams recorded from real codex builds (tests/fixtures/codex-<version>/) plus
synthetic edge cases for what no fixture shows (garbage bytes, unknown types, partial lines).

Streams embedded below as constants were recorded from the named build against a loopback fake API
by hand (the fixture recorder has no retry scenario); they are copied byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.lane.events import EVENT_KINDS, NormalizedEvent
from harness.lane.mapper import LEGACY_NOTICE, MappedStream, detect_protocol, map_stream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODERN_BUILDS = ("0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0")
LEGACY_BUILDS = ("0.20.0", "0.42.0")


def fixture(build: str, case: str) -> tuple[bytes, bytes]:
    base = FIXTURES / f"codex-{build}" / case
    return base.with_suffix(".stdout.jsonl").read_bytes(), base.with_suffix(".stderr.txt").read_bytes()


def mapped(build: str, case: str) -> MappedStream:
    return map_stream(*fixture(build, case))


def kinds(stream: MappedStream) -> list[str]:
    return [e.kind for e in stream.events]


def of(stream: MappedStream, kind: str) -> list[NormalizedEvent]:
    return [e for e in stream.events if e.kind == kind]


def _lines(*parts: bytes) -> bytes:
    return b"".join(part + b"\n" for part in parts)


#: codex 0.117.0, stream_max_retries=2, first attempt sent a message then disconnected.
RETRY_0_117 = _lines(
    b'{"type":"thread.started","thread_id":"01a20eb7-8c02-7763-ad9f-52003ba31beb"}',
    b'{"type":"turn.started"}',
    b'{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"attempt 1"}}',
    b'{"type":"error","message":"Reconnecting... 1/2 (stream disconnected before completion: '
    b'stream closed before response.completed)"}',
    b'{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"attempt 2"}}',
    b'{"type":"turn.completed","usage":{"input_tokens":11,"cached_input_tokens":3,"output_tokens":7}}',
)
#: codex 0.44.0, same scenario: the older retry notice wording.
RETRY_0_44 = _lines(
    b'{"type":"thread.started","thread_id":"01a20eb7-8a9f-7e53-baf9-e9fdf92c91fc"}',
    b'{"type":"turn.started"}',
    b'{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"attempt 1"}}',
    b'{"type":"error","message":"stream error: stream disconnected before completion: stream closed before '
    b'response.completed; retrying 1/2 in 192ms\xe2\x80\xa6"}',
    b'{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"attempt 2"}}',
    b'{"type":"turn.completed","usage":{"input_tokens":11,"cached_input_tokens":3,"output_tokens":7}}',
)
#: codex 0.50.0, flaky-stream (matrix default cells, codex-api-key/persistent): "Re-connecting..." (0.47-0.55).
RETRY_0_50 = _lines(
    b'{"type":"thread.started","thread_id":"01a248df-0dfb-7ee1-90dd-c676bcfb6d0a"}',
    b'{"type":"turn.started"}',
    b'{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"attempt 1"}}',
    b'{"type":"error","message":"Re-connecting... 1/1"}',
    b'{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"attempt 2"}}',
    b'{"type":"turn.completed","usage":{"input_tokens":11,"cached_input_tokens":3,"output_tokens":7}}',
)
#: codex 0.42.0 --experimental-json, tool scenario: the draft format (session.created, item_type).
DRAFT_0_42 = _lines(
    b'{"type":"session.created","session_id":"01a20eb8-5e13-74c1-bba9-6e872e1f6c16"}',
    b'{"type":"item.started","item":{"id":"item_0","item_type":"command_execution","command":"echo matrix-tool-ok",'
    b'"aggregated_output":"","status":"in_progress"}}',
    b'{"type":"item.completed","item":{"id":"item_0","item_type":"command_execution","command":"echo matrix-tool-ok",'
    b'"aggregated_output":"matrix-tool-ok\\n","exit_code":0,"status":"completed"}}',
    b'{"type":"item.completed","item":{"id":"item_1","item_type":"assistant_message","text":"OK"}}',
)
#: codex 0.117.0 --ephemeral with RUST_LOG=warn: the backfill line the Phase 0 sign-off attributes to history.
BACKFILL_STDERR_0_117 = (
    b"2026-11-24T17:58:49.585248Z  WARN codex_features: unknown feature key in config: unbounded_connection_retries\n"
    b"2026-11-24T17:58:49.625863Z  WARN codex_exec: thread/read failed while backfilling turn items for turn "
    b"completion: thread/read: thread/read failed: ephemeral threads do not support includeTurns\n"
)


# -- per build -------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", MODERN_BUILDS)
def test_ok_stream_of_modern_build(build: str) -> None:
    stream = mapped(build, "ok-persistent")
    assert stream.protocol == "thread-events"
    assert of(stream, "thread_started")[0].data["thread_id"]
    assert [e.data["text"] for e in of(stream, "assistant_text")] == ["OK"]
    order = [k for k in kinds(stream) if k in ("thread_started", "turn_started", "usage_updated", "turn_completed")]
    assert order == ["thread_started", "turn_started", "usage_updated", "turn_completed"]
    assert not of(stream, "unsupported_raw_event")


@pytest.mark.parametrize(("build", "extra"), [
    ("0.44.0", {}), ("0.117.0", {}), ("0.130.0", {"reasoning": 2}), ("0.142.0", {"reasoning": 2}),
    ("0.169.0", {"reasoning": 2, "cache_write": 4}),
])
def test_usage_fields_per_build(build: str, extra: dict[str, int]) -> None:
    (usage,) = of(mapped(build, "ok-persistent"), "usage_updated")
    assert usage.data == {"input": 11, "cached": 3, "output": 7, **extra, "origin": "turn.completed"}


@pytest.mark.parametrize("build", MODERN_BUILDS)
def test_tool_stream_of_modern_build(build: str) -> None:
    stream = mapped(build, "tool-persistent")
    (started,) = of(stream, "tool_started")
    (completed,) = of(stream, "tool_completed")
    assert started.data["kind"] == completed.data["kind"] == "command_execution"
    assert started.data["item_id"] == completed.data["item_id"]
    assert "matrix-tool-ok" in started.data["command"]
    assert started.data["input"] == {"command": started.data["command"]}
    assert completed.data["output"] == "matrix-tool-ok\n"
    assert completed.data["exit_code"] == 0 and completed.data["status"] == "completed"
    assert kinds(stream).index("tool_completed") < kinds(stream).index("assistant_text")
    (usage,) = of(stream, "usage_updated")
    assert (usage.data["input"], usage.data["cached"], usage.data["output"]) == (22, 6, 14)  # two requests, one total


@pytest.mark.parametrize("build", MODERN_BUILDS)
def test_unauthorized_stream_of_modern_build(build: str) -> None:
    stream = mapped(build, "unauthorized-persistent")
    (failed,) = of(stream, "turn_failed")
    assert "401" in failed.data["message"]
    retry_notices = [e for e in of(stream, "warning") if e.data["origin"] == "error-event"]
    assert retry_notices and all(e.data["source"] == "process" for e in retry_notices)
    assert not of(stream, "assistant_text") and not of(stream, "usage_updated")


@pytest.mark.parametrize("build", ("0.142.0", "0.169.0"))
def test_error_item_before_turn_started_is_a_process_warning(build: str) -> None:
    stream = mapped(build, "ok-persistent")
    first = kinds(stream).index("warning")
    assert first < kinds(stream).index("turn_started")
    event = stream.events[first]
    assert event.data["source"] == "process" and event.data["origin"] == "error-item"
    assert "Model metadata for `gpt-fake` not found" in event.data["text"]


@pytest.mark.parametrize("build", ("0.130.0", "0.142.0", "0.169.0"))
def test_every_stderr_line_is_a_process_warning(build: str) -> None:
    stdout, stderr = fixture(build, "ok-ephemeral")
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    warnings = [e for e in map_stream(stdout, stderr).events if e.kind == "warning" and e.data["origin"] == "stderr"]
    assert [w.data["text"] for w in warnings] == lines
    assert all(w.data["source"] == "process" for w in warnings)


def test_backfill_line_is_a_history_warning_0_117() -> None:
    stdout, _ = fixture("0.117.0", "ok-ephemeral")
    warnings = of(map_stream(stdout, BACKFILL_STDERR_0_117), "warning")
    assert [w.data["source"] for w in warnings] == ["process", "history"]
    assert "ephemeral threads do not support includeTurns" in warnings[1].data["text"]


# -- legacy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", LEGACY_BUILDS)
def test_legacy_stream_is_reported_as_legacy(build: str) -> None:
    stream = mapped(build, "ok-persistent")
    assert stream.protocol == "legacy"
    assert stream.events[0].kind == "warning" and stream.events[0].data["text"] == LEGACY_NOTICE
    assert not of(stream, "thread_started") and not of(stream, "turn_completed")  # never pretends to be modern
    assert [e.data["text"] for e in of(stream, "assistant_text")] == ["OK"]
    (usage,) = of(stream, "usage_updated")
    assert usage.data == {"input": 11, "cached": 3, "output": 7, "reasoning": 2, "origin": "legacy-token_count"}


def test_legacy_0_20_flat_token_counts_are_summed_into_running_totals() -> None:
    # 0.20's flat token_count is per model request (two requests, 11 input each): the mapper emits totals
    totals = [(e.data["input"], e.data["output"]) for e in of(mapped("0.20.0", "tool-persistent"), "usage_updated")]
    assert totals == [(11, 7), (22, 14)]


def test_legacy_0_42_nested_token_count_is_already_a_total() -> None:
    stream = mapped("0.42.0", "tool-persistent")
    assert [e.data["input"] for e in of(stream, "usage_updated")][-1] == 22


@pytest.mark.parametrize("build", LEGACY_BUILDS)
def test_legacy_tool_stream(build: str) -> None:
    stream = mapped(build, "tool-persistent")
    (started,) = of(stream, "tool_started")
    (completed,) = of(stream, "tool_completed")
    assert started.data["item_id"] == completed.data["item_id"]
    assert started.data["command"] == completed.data["command"] == "echo matrix-tool-ok"
    assert completed.data["output"] == "matrix-tool-ok\n" and completed.data["exit_code"] == 0


@pytest.mark.parametrize("build", LEGACY_BUILDS)
def test_legacy_error_message_fails_the_turn(build: str) -> None:
    (failed,) = of(mapped(build, "unauthorized-persistent"), "turn_failed")
    assert "401" in failed.data["message"]


def test_legacy_0_42_draft_format() -> None:
    stream = map_stream(DRAFT_0_42)
    assert stream.protocol == "legacy"
    assert of(stream, "thread_started")[0].data["thread_id"] == "01a20eb8-5e13-74c1-bba9-6e872e1f6c16"
    assert [e.data["text"] for e in of(stream, "assistant_text")] == ["OK"]
    assert of(stream, "tool_completed")[0].data["output"] == "matrix-tool-ok\n"
    failed = map_stream(b'{"type":"session.created","session_id":"s"}\n{"type":"error","message":"boom"}\n')
    assert of(failed, "turn_failed")[0].data["message"] == "boom"  # no turn.failed exists in the draft


def test_config_preamble_alone_is_legacy() -> None:
    stream = map_stream(b'{"model":"m","provider":"p","sandbox":"read-only","approval":"never","workdir":"/w"}\n')
    assert stream.protocol == "legacy"
    assert kinds(stream) == ["warning"]  # the notice; the preamble itself is not an event


def test_protocol_detection() -> None:
    assert detect_protocol([]) == "unknown"
    assert detect_protocol([{"type": "turn.started"}]) == "thread-events"
    assert detect_protocol([{"id": "0", "msg": {"type": "task_started"}}]) == "legacy"
    assert detect_protocol([{"prompt": "hi"}]) == "legacy"
    assert detect_protocol([{"type": "mystery"}, {"type": "thread.started"}]) == "thread-events"


# -- retries and cumulative usage ------------------------------------------------------------------


@pytest.mark.parametrize("stream_bytes", [RETRY_0_44, RETRY_0_50, RETRY_0_117],
                         ids=["codex-0.44.0", "codex-0.50.0", "codex-0.117.0"])
def test_retry_supersedes_the_cut_attempt_and_makes_the_notice_a_warning(stream_bytes: bytes) -> None:
    stream = map_stream(stream_bytes)
    texts = [(e.data["text"], bool(e.data.get("superseded"))) for e in of(stream, "assistant_text")]
    assert texts == [("attempt 1", True), ("attempt 2", False)]  # kept for forensics, marked superseded
    (notice,) = of(stream, "warning")
    assert notice.data["source"] == "process" and notice.data["origin"] == "retry"
    assert notice.data["superseded_text"] == ["attempt 1"]
    assert not of(stream, "turn_failed")


#: codex 0.117.0 in the ``retry-after-tool`` world (recorded 2026-12-06): reasoning and a preamble with the
#: tool call, the follow-up cut after its reasoning and message, then the retry.
RETRY_AFTER_TOOL_0_117 = _lines(
    b'{"type":"thread.started","thread_id":"01a24994-1a6f-7243-85b5-6116ae0774e0"}',
    b'{"type":"turn.started"}',
    b'{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"reasoning before the tool call"}}',
    b'{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Let me check first."}}',
    b'{"type":"item.started","item":{"id":"item_2","type":"command_execution","command":"/bin/bash -lc \'echo ok\'",'
    b'"aggregated_output":"","exit_code":null,"status":"in_progress"}}',
    b'{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"/bin/bash -lc \'echo ok\'",'
    b'"aggregated_output":"ok\\n","exit_code":0,"status":"completed"}}',
    b'{"type":"item.completed","item":{"id":"item_3","type":"reasoning","text":"reasoning of the cut attempt"}}',
    b'{"type":"item.completed","item":{"id":"item_4","type":"agent_message","text":"an answer cut short"}}',
    b'{"type":"error","message":"Reconnecting... 1/1 (stream disconnected before completion: stream closed before '
    b'response.completed)"}',
    b'{"type":"item.completed","item":{"id":"item_5","type":"reasoning","text":"reasoning of the retry"}}',
    b'{"type":"item.completed","item":{"id":"item_6","type":"agent_message","text":"Done."}}',
    b'{"type":"turn.completed","usage":{"input_tokens":22,"cached_input_tokens":6,"output_tokens":14}}',
)


def test_a_retry_after_a_tool_call_supersedes_only_its_own_attempt() -> None:
    """The tool's completion starts a new attempt: the preamble and reasoning before it stay; the cut
    attempt's reasoning and text are superseded, the retry's stay."""
    stream = map_stream(RETRY_AFTER_TOOL_0_117)
    live = [(e.kind, e.data["text"]) for e in stream.events
            if e.kind in ("assistant_text", "reasoning") and not e.data.get("superseded")]
    assert live == [("reasoning", "reasoning before the tool call"), ("assistant_text", "Let me check first."),
                    ("reasoning", "reasoning of the retry"), ("assistant_text", "Done.")]
    (notice,) = [e for e in stream.events if e.data.get("origin") == "retry"]
    assert notice.data["superseded_text"] == ["reasoning of the cut attempt", "an answer cut short"]


def test_usage_events_are_totals_in_order() -> None:
    # two turn.completed (as after `exec resume` on 0.80+): each total replaces the last, never summed
    lines = b'{"type":"turn.completed","usage":{"input_tokens":22,"cached_input_tokens":6,"output_tokens":14}}\n' \
            b'{"type":"turn.completed","usage":{"input_tokens":33,"cached_input_tokens":9,"output_tokens":21}}\n'
    assert [e.data["input"] for e in of(map_stream(lines), "usage_updated")] == [22, 33]


def test_unreadable_usage_is_a_warning_not_a_crash() -> None:
    stream = map_stream(b'{"type":"turn.completed","usage":{"input_tokens":"many"}}\n')
    assert kinds(stream) == ["warning", "turn_completed"]


# -- unknown types and other items -----------------------------------------------------------------


def test_unknown_event_and_item_types_are_kept_raw() -> None:
    lines = [
        {"type": "item.plan.delta", "delta": "x"},
        {"type": "item.completed", "item": {"id": "item_9", "type": "plan", "text": "p"}},
        {"type": "item.started", "item": "not an object"},
        {"type": 7},
        {"no_type": True},
        {"type": {"unhashable": []}},
        {"type": "item.completed", "item": {"id": "x", "type": ["list"]}},
    ]
    stream = map_stream(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    raw = of(stream, "unsupported_raw_event")
    assert [e.data["raw_type"] for e in raw] == [
        "item.plan.delta", "item.completed:plan", "item.started", "<non-string type 7>", "<no type>",
        '<non-string type {"unhashable": []}>', 'item.completed:<non-string type ["list"]>']
    assert [e.data["payload"] for e in raw] == lines


TODO_OPEN = {"text": "a", "completed": False}
TODO_DONE = {"text": "a", "completed": True}


def test_other_item_kinds() -> None:
    items = [
        {"type": "item.completed", "item": {"id": "r", "type": "reasoning", "text": "**Thinking**"}},
        {"type": "item.completed", "item": {"id": "f", "type": "file_change", "status": "completed",
                                            "changes": [{"path": "a.txt", "kind": "add"}]}},
        {"type": "item.started", "item": {"id": "m", "type": "mcp_tool_call", "server": "s", "tool": "t",
                                          "arguments": {"x": 1}, "status": "in_progress"}},
        {"type": "item.completed", "item": {"id": "m", "type": "mcp_tool_call", "server": "s", "tool": "t",
                                            "status": "completed",
                                            "result": {"content": [{"type": "text", "text": "res"}]}}},
        {"type": "item.started", "item": {"id": "w", "type": "web_search", "query": "q"}},
        {"type": "item.completed", "item": {"id": "w", "type": "web_search", "query": "q"}},
        {"type": "item.started", "item": {"id": "t", "type": "todo_list", "items": [TODO_OPEN]}},
        {"type": "item.updated", "item": {"id": "t", "type": "todo_list", "items": [TODO_DONE]}},
        {"type": "item.completed", "item": {"id": "t", "type": "todo_list", "items": [TODO_DONE]}},
        {"type": "item.completed", "item": {"id": "c", "type": "collab_tool_call", "tool": "spawn_agent",
                                            "prompt": "p", "status": "completed"}},
    ]
    stream = map_stream(b"".join(json.dumps(line).encode() + b"\n" for line in items))
    assert of(stream, "reasoning")[0].data == {"item_id": "r", "text": "**Thinking**"}
    started = {e.data["item_id"]: e.data for e in of(stream, "tool_started")}
    completed = {e.data["item_id"]: e.data for e in of(stream, "tool_completed")}
    assert set(started) == set(completed) == {"f", "m", "w", "t", "c"}  # every completion has one start
    assert started["f"]["command"] == "add a.txt"
    assert started["m"]["command"] == "s/t" and started["m"]["input"] == {"arguments": {"x": 1}}
    assert completed["m"]["output"] == "res"
    assert completed["t"]["output"] == "[x] a"
    assert started["c"]["kind"] == "collab_tool_call"
    assert not of(stream, "unsupported_raw_event")


# -- bytes-level robustness ------------------------------------------------------------------------


def test_non_json_and_non_object_lines_are_process_warnings() -> None:
    stream = map_stream(b'hello\n[1, 2]\n\n   \n{"type":"turn.started"}\nNaN\n')
    assert kinds(stream) == ["warning", "warning", "turn_started", "warning"]
    assert all(e.data["source"] == "process" and e.data["origin"] == "stdout" for e in of(stream, "warning"))
    assert "non-JSON stdout line 1: hello" in stream.events[0].data["text"]


def test_partial_last_line() -> None:
    complete = map_stream(b'{"type":"turn.started"}\n{"type":"turn.completed"}')
    assert kinds(complete) == ["turn_started", "turn_completed"]
    torn = map_stream(b'{"type":"turn.started"}\n{"type":"turn.comp')
    assert kinds(torn) == ["turn_started", "warning"]
    assert "partial trailing stdout line" in torn.events[1].data["text"]


def test_invalid_utf8_bom_and_crlf() -> None:
    stream = map_stream(b'\xef\xbb\xbf{"type":"turn.started"}\r\n'
                        b'{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"caf\xe9"}}\r\n',
                        b"bad \xff byte\n")
    assert kinds(stream) == ["turn_started", "assistant_text", "warning"]
    assert stream.events[1].data["text"] == "caf\ufffd"
    assert stream.events[2].data["text"] == "bad \ufffd byte"


def test_huge_float_and_long_warning_are_contained() -> None:
    stream = map_stream(b'{"type":"mystery","n":1e400}\n' + b"x" * 10000 + b"\n")
    assert stream.events[0].data["payload"]["n"] == "1e400"  # inf can't be written back as JSON
    assert len(stream.events[1].data["text"]) < 4200 and "more chars cut" in stream.events[1].data["text"]


def test_every_event_kind_is_declared() -> None:
    streams = [mapped(b, c) for b in (*MODERN_BUILDS, *LEGACY_BUILDS) for c in ("ok-persistent", "tool-persistent")]
    assert {e.kind for s in streams for e in s.events} <= set(EVENT_KINDS)
