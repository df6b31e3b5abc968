"""The lane adapter protocol's documents: strict parsing, one-line reasons, round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.lanes.protocol import (
    OUTCOMES,
    PROTOCOL_VERSION,
    AdapterRequest,
    AdapterResult,
    ProtocolError,
    parse_result,
    result_from_json,
)

REQUEST = AdapterRequest(prompt="Reply only with OK", cwd="/work", codex_path="/usr/local/bin/codex",
                         codex_home="/home/u/.codex", home="/home/u", base_url="http://127.0.0.1:1/v1",
                         timeout_s=30, policy="ephemeral", env={"CODEX_API_KEY": "sk-x"},
                         options={"mode": "documented"})


def result(**kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"protocol": PROTOCOL_VERSION, "lane": "shell@1", "outcome": "ok",
                           "events": ["thread.started", "turn.started", "item.completed", "turn.completed"],
                           "thread_id": "t-1", "final_text": "OK", "usage": {"input_tokens": 3, "output_tokens": 1}}
    doc.update(kw)
    return doc


def test_request_round_trips() -> None:
    again = AdapterRequest.loads(REQUEST.dumps())
    assert again == REQUEST
    assert "sk-x" not in repr(again)


@pytest.mark.parametrize(("change", "reason"), [
    ({"protocol": 2}, "speaks protocol 2"),
    ({"protocol": True}, "speaks protocol True"),
    ({"timeout_s": 0}, "'timeout_s' must be a positive number"),
    ({"timeout_s": "30"}, "'timeout_s' must be a positive number"),
    ({"cwd": None}, "'cwd' must be a string, got null"),
    ({"env": {"A": 1}}, "'env' must map names to strings"),
    ({"promt": "x"}, "unknown key 'promt'"),
])
def test_request_is_strict(change: dict[str, Any], reason: str) -> None:
    doc = {**REQUEST.to_json(), **change}
    with pytest.raises(ProtocolError, match=reason):
        AdapterRequest.from_json(doc)


def test_request_without_a_key_names_it() -> None:
    doc = REQUEST.to_json()
    del doc["codex_path"]
    with pytest.raises(ProtocolError, match="lacks required key 'codex_path'"):
        AdapterRequest.from_json(doc)


def test_result_parses_and_round_trips() -> None:
    parsed = parse_result(json.dumps(result()) + "\n")
    assert parsed.outcome == "ok" and parsed.final_text == "OK" and parsed.transcript is None
    assert parsed.events[0] == "thread.started"
    assert parse_result(parsed.dumps()) == parsed


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_outcome_has_a_valid_shape(outcome: str) -> None:
    doc = result(outcome=outcome)
    if outcome != "ok":
        doc.update(final_text=None, error="exit 1: boom" if outcome != "silent-empty" else None)
    assert result_from_json(doc).outcome == outcome


@pytest.mark.parametrize(("doc", "reason"), [
    (result(final_txt="OK"), "unknown key 'final_txt'.*put lane-specific data in 'extra'"),
    (result(outcome="passed"), "outcome 'passed' is not one of ok, exit-nonzero"),
    (result(outcome="ok", final_text=""), "outcome 'ok' without a final_text.*silent-empty"),
    (result(outcome="ok", error="boom"), "outcome 'ok' with an error"),
    (result(outcome="crash", final_text=None), "outcome 'crash' needs an 'error'"),
    (result(outcome="exit-nonzero", error="  "), "needs an 'error'"),
    (result(events="thread.started"), "'events' must be an array"),
    (result(events=[{"type": "thread.started"}]), "'events' must be an array of codex event types"),
    (result(usage={"input_tokens": -1}), "usage 'input_tokens' must be a non-negative integer"),
    (result(usage={"input_tokens": 1.5}), "must be a non-negative integer"),
    (result(exit_code="1"), "'exit_code' must be an integer or null"),
    (result(exit_code=True), "'exit_code' must be an integer or null"),
    (result(transcript=[1]), "'transcript' must be null or an array of objects"),
    (result(lane=" "), "'lane' must name the lane"),
    (result(protocol=0), "speaks protocol 0; this reader speaks 1"),
    ([], "result must be a JSON object, got an array"),
])
def test_result_parser_rejects_with_one_line(doc: Any, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason) as info:
        result_from_json(doc)
    assert "\n" not in str(info.value)


def test_missing_required_key() -> None:
    doc = result()
    del doc["events"]
    with pytest.raises(ProtocolError, match="lacks required key 'events'"):
        result_from_json(doc)


@pytest.mark.parametrize(("stdout", "reason"), [
    ("", "printed no result"),
    ("   \n", "printed no result"),
    ("progress: 50%\n" + json.dumps(result()), "not one JSON document \\(2 lines; diagnostics belong on stderr\\)"),
    (json.dumps(result()) + "\n" + json.dumps(result()), "not one JSON document"),
    ("Traceback (most recent call last):", "stdout is not JSON"),
])
def test_stdout_must_be_exactly_one_document(stdout: str, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_result(stdout)


def test_long_errors_are_capped_and_described_in_one_line() -> None:
    parsed = result_from_json(result(outcome="exit-nonzero", final_text=None, error="exit 1\n" + "x" * 10_000))
    assert parsed.error is not None and len(parsed.error) < 4100
    assert parsed.describe() == "exit-nonzero: exit 1"
    assert AdapterResult(lane="l", outcome="silent-empty").describe() == "silent-empty: no answer, no error"
