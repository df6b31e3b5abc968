"""Properties: no input crashes the mapper, and every projection passes the strict reader whole."""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.lane.authority import derive_authority
from harness.lane.events import EVENT_KINDS
from harness.lane.executable import Executable
from harness.lane.mapper import map_stream
from harness.lane.projection import ProjectionContext, project, to_jsonl
from harness.lane.reader import read_transcript

KNOWN_TYPES = ["thread.started", "turn.started", "turn.completed", "turn.failed", "item.started", "item.updated",
               "item.completed", "error", "session.created"]
ITEM_TYPES = ["agent_message", "assistant_message", "reasoning", "command_execution", "file_change", "mcp_tool_call",
              "web_search", "todo_list", "collab_tool_call", "error"]
#: LANE_PROPERTY_EXAMPLES=2000 for a deeper hunt; 40 keeps the unit suite fast.
SETTINGS = settings(max_examples=int(os.environ.get("LANE_PROPERTY_EXAMPLES", "40")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False)
                | st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=5)
field_names = st.sampled_from(["id", "type", "item_type", "text", "message", "command", "aggregated_output",
                               "exit_code", "status", "usage", "input_tokens", "cached_input_tokens", "output_tokens",
                               "error", "thread_id", "session_id", "changes", "items", "result", "msg", "info"])


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = draw(st.dictionaries(field_names, json_values, max_size=5))
    item["type"] = draw(st.sampled_from(ITEM_TYPES) | st.text(max_size=10) | json_values)
    return item


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = draw(st.dictionaries(field_names, json_values, max_size=4))
    event["type"] = draw(st.sampled_from(KNOWN_TYPES) | st.text(max_size=12) | json_values)
    if draw(st.booleans()):
        event["item"] = draw(items())
    if draw(st.booleans()):
        event["usage"] = draw(st.dictionaries(st.sampled_from(["input_tokens", "cached_input_tokens", "output_tokens",
                                                               "reasoning_output_tokens"]),
                                              st.integers(0, 10**6) | json_scalars, max_size=4))
    return event


@st.composite
def legacy_lines(draw: st.DrawFn) -> dict[str, Any]:
    msg: dict[str, Any] = draw(st.dictionaries(field_names, json_values, max_size=4))
    msg["type"] = draw(st.sampled_from(["task_started", "agent_message", "exec_command_begin", "exec_command_end",
                                        "token_count", "error", "patch_apply_begin", "patch_apply_end"]) | json_values)
    return {"id": draw(st.text(max_size=3)), "msg": msg}


def _check_projection(stdout: bytes, stderr: bytes, exit_code: int | None, timed_out: bool, policy: str) -> None:
    stream = map_stream(stdout, stderr)
    assert {e.kind for e in stream.events} <= set(EVENT_KINDS)
    authority = derive_authority(stream.events, policy=policy, exit_code=exit_code,  # type: ignore[arg-type]
                                 timed_out=timed_out, protocol=stream.protocol)
    ticks = itertools.count()
    counter = itertools.count()
    ctx = ProjectionContext(cwd="/w", session_id="s", prompt="p", policy=policy,  # type: ignore[arg-type]
                            executable=Executable("/c", "explicit", "codex-cli 0.1.0", "0.1.0"), model=None,
                            version="v", git_branch=None, exit_code=exit_code, protocol=stream.protocol)
    rows = project(stream.events, authority, ctx,
                   clock=lambda: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(ticks)),
                   new_id=lambda: f"id{next(counter)}")
    result = read_transcript(to_jsonl(rows))
    assert result.dropped == [], result.dropped
    assert len(result.kept) == len(rows) and not result.bom_lines and not result.partial_trailing_line
    assert rows[-1]["codexNativeThreadStatus"] == authority.thread_status != "running"


outcomes = st.tuples(st.none() | st.integers(-15, 3), st.booleans(), st.sampled_from(["ephemeral", "persistent"]))


@SETTINGS
@given(st.lists(st.binary(max_size=60), max_size=8), st.binary(max_size=80), outcomes)
def test_arbitrary_byte_lines(lines: list[bytes], stderr: bytes, outcome: tuple[int | None, bool, str]) -> None:
    _check_projection(b"\n".join(lines), stderr, *outcome)


@SETTINGS
@given(st.lists(events(), max_size=10), st.booleans(), outcomes)
def test_arbitrary_event_objects(objects: list[dict[str, Any]], trailing_newline: bool,
                                 outcome: tuple[int | None, bool, str]) -> None:
    stdout = b"\n".join(json.dumps(o).encode() for o in objects) + (b"\n" if trailing_newline else b"")
    _check_projection(stdout, b"", *outcome)


@SETTINGS
@given(st.lists(legacy_lines(), max_size=8), outcomes)
def test_arbitrary_legacy_streams(lines: list[dict[str, Any]], outcome: tuple[int | None, bool, str]) -> None:
    stdout = b'{"model":"m","workdir":"/w"}\n{"prompt":"p"}\n' + b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    _check_projection(stdout, b"", *outcome)


@SETTINGS
@given(st.lists(events() | legacy_lines(), max_size=6), st.binary(max_size=40), outcomes)
def test_mixed_and_torn_streams(objects: list[dict[str, Any]], junk: bytes,
                                outcome: tuple[int | None, bool, str]) -> None:
    text = b"\n".join(json.dumps(o).encode() for o in objects)
    _check_projection(text[: len(text) * 2 // 3] + junk, junk, *outcome)
