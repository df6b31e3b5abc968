"""The contract oracles: the journal's view of a turn (usage sums, reply, verdict) and codex's stdout."""

from __future__ import annotations

import json
from typing import Any

from harness.fakeapi.wire import USAGE
from harness.suite.oracle import (
    journal_verdict,
    printed_usage,
    returned_tool_outputs,
    sent_reply,
    sent_tool_calls,
    sent_usage,
)


def answered(items: list[dict[str, Any]], completed: bool = True, status: int | None = 200) -> dict[str, Any]:
    return {"status": status, "completed": completed,
            "sent": {"response_id": "resp_1", "usage": USAGE if completed else None, "items": items}}


CALL = {"type": "function_call", "id": "fc_1", "name": "shell", "call_id": "call_1", "arguments": "{}"}
REPLY = {"type": "message", "id": "msg_1", "text": "OK"}


def test_usage_is_summed_over_completed_responses_only() -> None:
    turns = [answered([CALL]), answered([REPLY], completed=False), answered([REPLY])]
    usage = sent_usage(turns)
    assert (usage.input, usage.cached, usage.output, usage.reasoning, usage.cache_write, usage.responses) == (
        22, 6, 14, 4, 8, 2)


def test_reply_and_calls_come_from_completed_responses() -> None:
    cut = answered([{**REPLY, "text": "cut short"}], completed=False)
    assert sent_reply([answered([CALL]), cut, answered([REPLY])]) == "OK"
    assert sent_reply([cut]) is None
    assert sent_tool_calls([answered([CALL]), answered([REPLY])]) == [CALL]


def test_verdict_from_the_last_request() -> None:
    assert journal_verdict([]) is None
    assert journal_verdict([answered([REPLY])]) == "completed"
    assert journal_verdict([{"status": 500}, answered([REPLY])]) == "completed"  # a retry that succeeded
    assert journal_verdict([answered([REPLY]), {"status": 401}]) == "failed"
    assert journal_verdict([answered([REPLY], completed=False)]) == "failed"  # a stream cut short
    assert journal_verdict([answered([CALL]), {"status": None}]) == "interrupted"  # never answered
    assert journal_verdict([answered([CALL])]) == "interrupted"  # a call the model still waits on


def test_tool_outputs_are_decoded_and_the_last_copy_wins() -> None:
    turns = [{"tool_results": [{"call_id": "c1", "output": json.dumps({"output": "first\n", "metadata": {}})}]},
             {"tool_results": [{"call_id": "c1", "output": json.dumps({"output": "x\n", "metadata": {}})},
                               {"call_id": "c2", "output": "Output:\nplain\n"}]}]
    assert returned_tool_outputs(turns) == ["x\n", "Output:\nplain\n"]


def test_printed_usage_is_the_last_turn_completed() -> None:
    stdout = b'{"type":"turn.completed","usage":{"input_tokens":1}}\nnot json\n' \
             b'{"type":"turn.completed","usage":{"input_tokens":2}}\n'
    assert printed_usage(stdout) == {"input_tokens": 2}
    assert printed_usage(b'{"type":"turn.failed"}\n') is None
