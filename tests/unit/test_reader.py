"""The strict reader: one test per drop rule, plus BOM, partial trailing line, CRLF and blank lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.lane.reader import read_transcript

GOOD: dict[str, Any] = {"type": "system", "uuid": "u1", "timestamp": "2026-04-19T12:00:00.000Z", "subtype": "x"}


def line(**overrides: Any) -> str:
    row = {**GOOD, **overrides}
    return json.dumps({k: v for k, v in row.items() if v is not DROP})


DROP = object()


def test_good_rows_are_kept_in_order() -> None:
    data = "\n".join([line(uuid="a"), line(uuid="b", type="user", message={"role": "user", "content": "hi"})]) + "\n"
    result = read_transcript(data)
    assert [r["uuid"] for r in result.kept] == ["a", "b"]
    assert (result.dropped, result.bom_lines, result.partial_trailing_line) == ([], [], False)


@pytest.mark.parametrize(("text", "reason"), [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object: list"),
    ('"a string"', "not a JSON object: str"),
    (line(type="mystery"), "unknown type 'mystery'"),
    (line(type=DROP), "unknown type None"),
    (line(type={"nested": 1}), "unknown type {'nested': 1}"),
    (line(type=["user"]), "unknown type ['user']"),
    (line(uuid=DROP), "missing uuid"),
    (line(uuid=""), "missing uuid"),
    (line(uuid=7), "missing uuid"),
    (line(timestamp=DROP), "timestamp missing or not ISO-8601"),
    (line(timestamp="yesterday"), "timestamp missing or not ISO-8601"),
    (line(timestamp=1713528000), "timestamp missing or not ISO-8601"),
    (line(type="user"), "user row without a message object"),
    (line(type="assistant", message="text"), "assistant row without a message object"),
    ('{"type":"system","uuid":"u","timestamp":"2026-04-19T12:00:00Z","n":NaN}', "not JSON"),
])
def test_each_drop_rule(text: str, reason: str) -> None:
    result = read_transcript(f"{line(uuid='ok')}\n{text}\n".encode())
    assert [r["uuid"] for r in result.kept] == ["ok"]
    assert len(result.dropped) == 1
    number, why = result.dropped[0]
    assert number == 2 and why.startswith(reason), why


def test_bom_prefixed_lines_are_dropped_and_reported() -> None:
    data = ("\ufeff" + line(uuid="a") + "\n" + line(uuid="b") + "\n\ufeff" + line(uuid="c") + "\n").encode()
    result = read_transcript(data)
    assert result.bom_lines == [1, 3]
    assert [r["uuid"] for r in result.kept] == ["b"]
    assert [n for n, _ in result.dropped] == [1, 3]
    assert "byte order mark" in result.dropped[0][1]


def test_partial_trailing_line_complete_is_kept() -> None:
    result = read_transcript(line(uuid="a") + "\n" + line(uuid="b"))
    assert result.partial_trailing_line is True
    assert [r["uuid"] for r in result.kept] == ["a", "b"] and result.dropped == []


def test_partial_trailing_line_torn_is_dropped() -> None:
    result = read_transcript(line(uuid="a") + "\n" + line(uuid="b")[:20])
    assert result.partial_trailing_line is True
    assert [r["uuid"] for r in result.kept] == ["a"]
    ((number, why),) = result.dropped
    assert number == 2 and why.startswith("partial trailing line (no newline): not JSON")


def test_blank_lines_crlf_and_invalid_utf8() -> None:
    data = (line(uuid="a") + "\r\n\r\n   \n").encode() + b'{"type":"system","uuid":"b\xff","timestamp":"2026-04-19"}\n'
    result = read_transcript(data)
    assert [r["uuid"] for r in result.kept] == ["a", "b\ufffd"]
    assert result.dropped == [] and result.partial_trailing_line is False


def test_empty_input() -> None:
    result = read_transcript(b"")
    assert (result.kept, result.dropped, result.partial_trailing_line) == ([], [], False)
