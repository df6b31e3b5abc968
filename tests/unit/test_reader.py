"""The strict reader keeps a row exactly when both of claude_team's real readers keep it.

The conformance tables below give, for each row shape, the verdict of ``src/main/utils/jsonl.ts``
(``parseJsonlFile``) and of ``BoardTaskExactLogStrictParser.parseFiles``, and the claude_team source
lines the verdicts come from (github.com/777genius/claude_agent_teams_ui at commit 9a8ea6af; short
names as in ``harness/lane/reader.py``: ``Strict.ts`` is the strict parser). The verdicts were observed,
not derived: both readers' TypeScript from 9a8ea6af was bundled with esbuild and run under Node v20
(v20.20.2, TZ=Etc/UTC) on 2026-11-30, each row written to its own file as ``line + "\\n"`` (the
multi-line cases as the whole file), "kept" meaning the reader returned the row. ``ROWS`` are the 61
rows of that research run; ``MORE_ROWS`` and ``FILES`` were run through the same bundle the same day.
The ``Date.parse`` table was observed under the same Node.

Each test asserts our reader keeps the row iff both real readers keep it, and that a dropped row's
reason names the expected rule.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from harness.lane.reader import (
    RULE_CONTENT,
    RULE_CR_SPLIT,
    RULE_MESSAGE,
    RULE_NOT_JSON,
    RULE_NOT_OBJECT,
    RULE_RAW_LINE,
    RULE_TIMESTAMP,
    RULE_TYPE,
    RULE_UUID,
    check_row,
    js_date_parse_finite,
    js_trim,
    read_transcript,
)

TS = "2026-01-01T00:00:00.000Z"
MISSING: Any = object()
BLANK = "blank line, skipped"  # not a row to either reader: neither kept nor reported as dropped


def j(value: Any) -> str:
    """``JSON.stringify``: compact, key order kept, non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _over(row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    row = {**row, **changes}  # an overridden key keeps its place, as with a JS object spread
    return {k: v for k, v in row.items() if v is not MISSING}


def U(message: Any = MISSING, **changes: Any) -> str:  # the names are those of the research's rows.cjs
    row = {"type": "user", "uuid": "u-1", "sessionId": "s1", "timestamp": TS,
           "message": {"role": "user", "content": "hello"} if message is MISSING else message}
    return j(_over(row, changes))


def A(message: Any) -> str:
    return j({"type": "assistant", "uuid": "a-1", "sessionId": "s1", "timestamp": TS, "message": message})


def S(**extra: Any) -> str:
    return j({"type": "system", "uuid": "s-1", "sessionId": "s1", "timestamp": TS, **extra})


def content(value: Any, role: str = "user") -> dict[str, Any]:
    return {"role": role, "content": value}


class Row(NamedTuple):
    name: str
    line: str
    jsonl_ts: str  # "kept" / "dropped": what parseJsonlFile returned
    strict: str  # "kept" / "dropped": what BoardTaskExactLogStrictParser returned
    rule: str | None  # the rule our reader names when it drops the row (None: kept)
    source: str  # the claude_team lines the verdicts come from


K, D = "kept", "dropped"

ROWS = [
    Row("valid_user", U(), K, K, None, "jsonl.ts:284 (string content); Strict.ts:27 (ISO timestamp)"),
    Row("valid_assistant", A(content([{"type": "text", "text": "hi"}], "assistant")), K, K, None,
        "jsonl.ts:294; toolExtraction.ts:17-18 (array of blocks)"),
    Row("valid_system", S(content="note", level="info", subtype="x"), K, K, None, "jsonl.ts:301"),
    Row("assistant_content_missing", A({"role": "assistant"}), D, D, RULE_CONTENT,
        "jsonl.ts:294 (no `?? ''`); toolExtraction.ts:17 (undefined is not iterable)"),
    Row("assistant_content_object", A(content({"type": "text", "text": "hi"}, "assistant")), D, D, RULE_CONTENT,
        "toolExtraction.ts:17 (an object is not iterable)"),
    Row("assistant_content_number", A(content(5, "assistant")), D, D, RULE_CONTENT, "toolExtraction.ts:17"),
    Row("assistant_content_string", A(content("hi", "assistant")), K, K, None,
        "toolExtraction.ts:11, 46 (a string returns early)"),
    Row("assistant_content_null", A(content(None, "assistant")), D, D, RULE_CONTENT,
        "jsonl.ts:294; toolExtraction.ts:17 (null is not iterable)"),
    Row("assistant_content_array_with_null_block", A(content([None], "assistant")), D, D, RULE_CONTENT,
        "toolExtraction.ts:18 (`block.type` of null)"),
    Row("assistant_message_missing", j({"type": "assistant", "uuid": "a-1", "sessionId": "s1", "timestamp": TS}),
        D, D, RULE_MESSAGE, "jsonl.ts:294 (`entry.message.content` of undefined)"),
    Row("assistant_message_string", A("hi"), D, D, RULE_CONTENT,
        "jsonl.ts:294 ('hi'.content is undefined); toolExtraction.ts:17"),
    Row("user_message_string", U("hello"), K, K, None, "jsonl.ts:284 ('hello'.content ?? '' is '')"),
    Row("user_message_missing", j({"type": "user", "uuid": "u-1", "sessionId": "s1", "timestamp": TS}),
        D, D, RULE_MESSAGE, "jsonl.ts:284 (`entry.message.content` of undefined)"),
    Row("user_message_null", U(None), D, D, RULE_MESSAGE, "jsonl.ts:284 (`entry.message.content` of null)"),
    Row("user_content_object", U(content({"type": "text", "text": "x"})), D, D, RULE_CONTENT, "toolExtraction.ts:17"),
    Row("user_content_number", U(content(5)), D, D, RULE_CONTENT, "toolExtraction.ts:17"),
    Row("user_content_missing", U({"role": "user"}), K, K, None, "jsonl.ts:284 (`?? ''`)"),
    Row("user_content_blocks", U(content([{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}])), K, K,
        None, "toolExtraction.ts:52-55"),
    Row("uuid_numeric", U(uuid=123), K, K, None, "jsonl.ts:231 (`!entry.uuid`: any truthy value)"),
    Row("uuid_zero", U(uuid=0), D, D, RULE_UUID, "jsonl.ts:231"),
    Row("uuid_empty_string", U(uuid=""), D, D, RULE_UUID, "jsonl.ts:231"),
    Row("uuid_missing", U(uuid=MISSING), D, D, RULE_UUID, "jsonl.ts:231"),
    Row("uuid_true", U(uuid=True), K, K, None, "jsonl.ts:231"),
    Row("uuid_whitespace", U(uuid=" "), K, K, None, "jsonl.ts:231"),
    Row("type_file_history_snapshot",
        j({"type": "file-history-snapshot", "uuid": "f-1", "timestamp": TS, "messageId": "m1", "snapshot": {}}),
        K, K, None, "jsonl.ts:374-375, 241 (no further checks)"),
    Row("type_file_history_snapshot_no_uuid_no_ts",
        j({"type": "file-history-snapshot", "messageId": "m1", "snapshot": {"timestamp": TS},
           "isSnapshotUpdate": False}),
        D, D, RULE_TIMESTAMP, "jsonl.ts:231 (no uuid); Strict.ts:24 (no timestamp, checked first)"),
    Row("type_queue_operation",
        j({"type": "queue-operation", "uuid": "q-1", "timestamp": TS, "operation": "enqueue", "sessionId": "s1"}),
        K, K, None, "jsonl.ts:376-377"),
    Row("type_queue_operation_no_uuid",
        j({"type": "queue-operation", "operation": "enqueue", "timestamp": TS, "sessionId": "s1"}),
        D, D, RULE_UUID, "jsonl.ts:231"),
    Row("type_summary", j({"type": "summary", "uuid": "sm-1", "timestamp": TS, "summary": "x", "leafUuid": "u-1"}),
        K, K, None, "jsonl.ts:372-373"),
    Row("type_summary_no_uuid_no_ts", j({"type": "summary", "summary": "x", "leafUuid": "u-1"}),
        D, D, RULE_TIMESTAMP, "jsonl.ts:231 (no uuid); Strict.ts:24 (no timestamp, checked first)"),
    Row("type_unknown_progress", j({"type": "progress", "uuid": "p-1", "timestamp": TS}), D, D, RULE_TYPE,
        "jsonl.ts:235-238, 378-380"),
    Row("type_missing", j({"uuid": "p-1", "timestamp": TS, "message": content("x")}), D, D, RULE_TYPE,
        "jsonl.ts:378-380"),
    Row("type_uppercase_User", U(type="User"), D, D, RULE_TYPE, "jsonl.ts:365-380 (exact `case` match)"),
    Row("ts_basic_iso_20260101T000000Z", U(timestamp="20260101T000000Z"), K, D, RULE_TIMESTAMP,
        "Strict.ts:27 (Date.parse NaN); jsonl.ts:325 keeps an Invalid Date"),
    Row("ts_rfc1123", U(timestamp="Thu, 01 Jan 2026 00:00:00 GMT"), K, K, None,
        "Strict.ts:27 (V8's legacy date parser)"),
    Row("ts_bare_year_2026", U(timestamp="2026"), K, K, None, "Strict.ts:27 (ISO year form)"),
    Row("ts_iso_full", U(timestamp=TS), K, K, None, "Strict.ts:27"),
    Row("ts_iso_date_only", U(timestamp="2026-01-01"), K, K, None, "Strict.ts:27"),
    Row("ts_space_separated", U(timestamp="2026-01-01 00:00:00"), K, K, None, "Strict.ts:27 (legacy parser)"),
    Row("ts_month_name", U(timestamp="Jan 1 2026"), K, K, None, "Strict.ts:27 (legacy parser)"),
    Row("ts_invalid_month_13", U(timestamp="2026-13-01T00:00:00Z"), K, D, RULE_TIMESTAMP,
        "Strict.ts:27; jsonl.ts:325 keeps an Invalid Date"),
    Row("ts_not_a_date", U(timestamp="not a date"), K, D, RULE_TIMESTAMP, "Strict.ts:27; jsonl.ts:325"),
    Row("ts_missing", U(timestamp=MISSING), K, D, RULE_TIMESTAMP, "Strict.ts:24; jsonl.ts:325 (`new Date()`)"),
    Row("ts_numeric_ms", U(timestamp=1767225600000), K, D, RULE_TIMESTAMP,
        "Strict.ts:24 (typeof !== 'string'); jsonl.ts:325 (epoch ms)"),
    Row("ts_empty_string", U(timestamp=""), K, D, RULE_TIMESTAMP, "Strict.ts:24; jsonl.ts:325"),
    Row("ts_whitespace", U(timestamp="   "), K, D, RULE_TIMESTAMP, "Strict.ts:24 (`trim().length === 0`)"),
    Row("ts_null", U(timestamp=None), K, D, RULE_TIMESTAMP, "Strict.ts:24; jsonl.ts:325"),
    Row("bom_prefixed_line", "\ufeff" + U(), K, D, RULE_RAW_LINE,
        "Strict.ts:124 (JSON.parse of the raw line throws); jsonl.ts:213-216 (trimmed, BOM stripped)"),
    Row("leading_whitespace", "   " + U(), K, K, None, "jsonl.ts:214; Strict.ts:124 (JSON white space)"),
    Row("system_content_object", S(content={"text": "x"}), D, D, RULE_CONTENT, "jsonl.ts:301; toolExtraction.ts:17"),
    Row("system_content_number", S(content=5), D, D, RULE_CONTENT, "jsonl.ts:301; toolExtraction.ts:17"),
    Row("system_content_array_blocks", S(content=[{"type": "text", "text": "x"}]), K, K, None,
        "jsonl.ts:301; toolExtraction.ts:17-18"),
    Row("system_content_missing", S(), K, K, None, "jsonl.ts:301 (`entry.content ?? ''`)"),
    Row("nan_literal", "NaN", D, D, RULE_NOT_OBJECT, "jsonl.ts:115-118, 218-220; Strict.ts:124"),
    Row("json_array_line", "[" + U() + "]", D, D, RULE_NOT_OBJECT,
        "jsonl.ts:219; Strict.ts:24 (an array passes asRecord, has no timestamp)"),
    Row("json_string_line", '"hello"', D, D, RULE_NOT_OBJECT, "jsonl.ts:219; Strict.ts:19-21, 126 (asRecord)"),
    Row("json_number_line", "42", D, D, RULE_NOT_OBJECT, "jsonl.ts:219; Strict.ts:19-21"),
    Row("json_null_line", "null", D, D, RULE_NOT_OBJECT, "jsonl.ts:219; Strict.ts:19-21"),
    Row("truncated_json", U()[:40], D, D, RULE_NOT_JSON, "jsonl.ts:205, 126-128; Strict.ts:124, 136-138"),
    Row("trailing_garbage", U() + " x", D, D, RULE_NOT_JSON, "jsonl.ts:205; Strict.ts:124"),
    Row("blank_line", "   ", D, D, BLANK, "jsonl.ts:110-112; Strict.ts:120"),
]

MORE_ROWS = [
    Row("user_content_true", U(content(True)), D, D, RULE_CONTENT, "toolExtraction.ts:17 (a boolean)"),
    Row("user_content_null", U(content(None)), K, K, None, "jsonl.ts:284 (`null ?? ''`)"),
    Row("user_content_array_with_null_block", U(content(["x", None])), D, D, RULE_CONTENT, "toolExtraction.ts:18"),
    Row("user_content_scalars_in_array", U(content([1, "a", []])), K, K, None,
        "toolExtraction.ts:18 (`(1).type` is undefined)"),
    Row("assistant_task_tool_use_input_null",
        A(content([{"type": "tool_use", "id": "t", "name": "Task", "input": None}], "assistant")), K, K, None,
        "toolExtraction.ts:19-33 (`block.input ?? {}`)"),
    Row("uuid_object", U(uuid={}), K, K, None, "jsonl.ts:231 (an object is truthy)"),
    Row("uuid_false", U(uuid=False), D, D, RULE_UUID, "jsonl.ts:231"),
    Row("uuid_null", U(uuid=None), D, D, RULE_UUID, "jsonl.ts:231"),
    Row("duplicate_uuid_last_wins_kept", U()[:-1] + ',"uuid":"u-2"}', K, K, None,
        "JSON.parse: last duplicate key wins; jsonl.ts:231"),
    Row("duplicate_uuid_last_wins_dropped", U()[:-1] + ',"uuid":""}', D, D, RULE_UUID, "jsonl.ts:231"),
    Row("nan_value", U()[:-1] + ',"n":NaN}', D, D, RULE_NOT_JSON, "jsonl.ts:205; Strict.ts:124"),
    Row("huge_integer_value", U()[:-1] + ',"n":' + "9" * 5000 + "}", K, K, None, "JSON.parse reads a double"),
    Row("nbsp_after_object", U() + "\u00a0", K, D, RULE_RAW_LINE,
        "jsonl.ts:214 (String.trim strips U+00A0); Strict.ts:124 (not JSON white space)"),
    Row("tab_around_object", "\t" + U() + "\t", K, K, None, "jsonl.ts:214; Strict.ts:124"),
    Row("ts_slashes", U(timestamp="2026/01/01"), K, K, None, "Strict.ts:27 (legacy parser)"),
    Row("ts_us_month_day", U(timestamp="01/02/2026"), K, K, None, "Strict.ts:27 (legacy parser)"),
    Row("ts_hour_25", U(timestamp="2026-01-01T25:00:00Z"), K, D, RULE_TIMESTAMP, "Strict.ts:27"),
    Row("ts_epoch_ms_string", U(timestamp="1767225600000"), K, D, RULE_TIMESTAMP,
        "Strict.ts:27 (year 176722560 is out of range)"),
    Row("ts_offset", U(timestamp="2026-01-01T00:00:00+05:30"), K, K, None, "Strict.ts:27"),
]


@pytest.mark.parametrize("row", ROWS + MORE_ROWS, ids=lambda row: row.name)
def test_row_is_kept_iff_both_readers_keep_it(row: Row) -> None:
    both = row.jsonl_ts == K and row.strict == K
    assert (row.rule is None) == both, "table: a rule is named exactly for the rows a reader drops"
    result = read_transcript(row.line + "\n")
    assert (len(result.kept) == 1) == both
    if row.rule is None:
        assert result.dropped == []
    elif row.rule == BLANK:
        assert result.kept == result.dropped == []
    else:
        ((number, reason),) = result.dropped
        assert number == 1 and reason.startswith(row.rule + ":"), reason


def test_the_research_rows_are_all_here() -> None:
    assert len(ROWS) == 61 and len({row.name for row in ROWS + MORE_ROWS}) == len(ROWS) + len(MORE_ROWS)
    rules = {row.rule for row in ROWS + MORE_ROWS}
    assert rules >= {None, BLANK, RULE_NOT_OBJECT, RULE_NOT_JSON, RULE_RAW_LINE, RULE_TIMESTAMP, RULE_UUID,
                     RULE_TYPE, RULE_MESSAGE, RULE_CONTENT}


def u(uuid: str, **changes: Any) -> str:
    """The multi-line cases' row (multi.cjs): a user row with content 'x'."""
    return U(content("x"), uuid=uuid, **changes)


PARTIAL = "partial trailing line (no newline): "


class File(NamedTuple):
    name: str
    text: str
    jsonl_ts: list[str]  # uuids parseJsonlFile returned
    strict: list[str]  # uuids BoardTaskExactLogStrictParser returned
    rule: str | None  # the rule named for the dropped lines, if any
    source: str


FILES = [
    File("bom_file_start_then_valid", "\ufeff" + u("a") + "\n" + u("b") + "\n", ["a", "b"], ["b"], RULE_RAW_LINE,
         "jsonl.ts:213-216; Strict.ts:112, 124 (neither the decoder nor readline strips a BOM)"),
    File("bom_mid_file", u("a") + "\n\ufeff" + u("b") + "\n", ["a", "b"], ["a"], RULE_RAW_LINE, "Strict.ts:124"),
    File("crlf_lines", u("a") + "\r\n" + u("b") + "\r\n", ["a", "b"], ["a", "b"], None,
         "jsonl.ts:105-107; Strict.ts:115 (crlfDelay)"),
    File("lone_cr_separator", u("a") + "\r" + u("b") + "\n", [], ["a", "b"], RULE_CR_SPLIT,
         "jsonl.ts:140 (LF only: one line, not JSON); Strict.ts:113-116 (readline breaks at CR)"),
    File("cr_inside_whitespace", '{"type":"user",\r"uuid":"a","timestamp":"' + TS + '","message":{"content":"x"}}\n',
         ["a"], [], RULE_CR_SPLIT, "jsonl.ts:205 (CR is JSON white space); Strict.ts:113-116 (two broken halves)"),
    File("no_trailing_newline", u("a") + "\n" + u("b"), ["a", "b"], ["a", "b"], None,
         "jsonl.ts:157-176; readline emits the last line"),
    File("truncated_last_line", u("a") + "\n" + u("b")[:30], ["a"], ["a"], RULE_NOT_JSON,
         "jsonl.ts:172-175; Strict.ts:136-138"),
    File("u2028_in_string",
         j({"type": "user", "uuid": "a", "timestamp": TS, "message": {"content": "a\u2028b"}}) + "\n",
         ["a"], ["a"], None, "readline does not break at U+2028; JSON.parse accepts it in a string"),
]


@pytest.mark.parametrize("case", FILES, ids=lambda case: case.name)
def test_multi_line_files_keep_what_both_readers_keep(case: File) -> None:
    result = read_transcript(case.text.encode())
    both = [uuid for uuid in case.jsonl_ts if uuid in case.strict]
    assert [row["uuid"] for row in result.kept] == both
    rules = {reason.removeprefix(PARTIAL).split(":")[0] for _, reason in result.dropped}
    assert rules == (set() if case.rule is None else {case.rule})


# Date.parse(text) under Node v20.20.2 (finite or NaN), from the research's dates.cjs.
DATES = [
    ("2026-01-01T00:00:00.000Z", True), ("2026-01-01T00:00:00Z", True), ("2026-01-01T00:00:00", True),
    ("2026-01-01T00:00", True), ("2026-01-01", True), ("2026-01", True), ("2026", True),
    ("+002026-01-01T00:00:00Z", True), ("2026-01-01T00:00:00.123456Z", True), ("2026-01-01T00:00:00+05:30", True),
    ("2026-01-01T00:00:00+0530", True), ("2026-01-01t00:00:00z", True), ("2026-01-01 00:00:00", True),
    ("2026-01-01 00:00:00Z", True), ("20260101T000000Z", False), ("20260101", False), ("2026-1-1", True),
    ("2026/01/01", True), ("01/02/2026", True), ("Thu, 01 Jan 2026 00:00:00 GMT", True),
    ("Fri, 01 Jan 2026 00:00:00 GMT", True), ("01 Jan 2026 00:00:00 GMT", True), ("Jan 1 2026", True),
    ("January 1, 2026 10:00 PM", True), ("Thu Jan 01 2026 00:00:00 GMT+0000 (Coordinated Universal Time)", True),
    ("2026-13-01T00:00:00Z", False), ("2026-02-30T00:00:00Z", True), ("2026-01-01T24:00:00Z", True),
    ("2026-01-01T25:00:00Z", False), ("not a date", False), ("", False), (" ", False), ("0", True),
    ("1767225600000", False), ("12", True), ("99", True), ("Mon, 32 Jan 2026", False),
]


@pytest.mark.parametrize(("text", "finite"), DATES)
def test_js_date_parse_finite_matches_v8(text: str, finite: bool) -> None:
    assert js_date_parse_finite(text) is finite


def test_js_trim_is_javascripts_not_pythons() -> None:
    assert js_trim("\ufeff\u00a0\u2028 x \u3000\r\n") == "x"
    assert js_trim("\x1cx\x85") == "\x1cx\x85"  # Python's str.strip would remove these


# --- transcript-level behaviour kept from the first reader -----------------------------------------------

GOOD: dict[str, Any] = {"type": "system", "uuid": "u1", "timestamp": "2026-04-19T12:00:00.000Z", "subtype": "x"}
DROP = object()


def line(**overrides: Any) -> str:
    row = {**GOOD, **overrides}
    return json.dumps({k: v for k, v in row.items() if v is not DROP})


def test_good_rows_are_kept_in_order() -> None:
    data = "\n".join([line(uuid="a"), line(uuid="b", type="user", message={"role": "user", "content": "hi"})]) + "\n"
    result = read_transcript(data)
    assert [r["uuid"] for r in result.kept] == ["a", "b"]
    assert (result.dropped, result.bom_lines, result.partial_trailing_line) == ([], [], False)


@pytest.mark.parametrize(("text", "reason"), [
    ("not json", RULE_NOT_OBJECT),
    ("[1, 2]", RULE_NOT_OBJECT),
    ('"a string"', RULE_NOT_OBJECT),
    ("{not json}", RULE_NOT_JSON),
    (line(type="mystery"), RULE_TYPE),
    (line(type=DROP), RULE_TYPE),
    (line(type={"nested": 1}), RULE_TYPE),
    (line(type=["user"]), RULE_TYPE),
    (line(uuid=DROP), RULE_UUID),
    (line(uuid=""), RULE_UUID),
    (line(uuid=0), RULE_UUID),
    (line(timestamp=DROP), RULE_TIMESTAMP),
    (line(timestamp="yesterday"), RULE_TIMESTAMP),
    (line(timestamp=1713528000), RULE_TIMESTAMP),
    (line(type="user"), RULE_MESSAGE),
    (line(type="assistant", message="text"), RULE_CONTENT),
    ('{"type":"system","uuid":"u","timestamp":"2026-04-19T12:00:00Z","n":NaN}', RULE_NOT_JSON),
])
def test_each_drop_rule(text: str, reason: str) -> None:
    result = read_transcript(f"{line(uuid='ok')}\n{text}\n".encode())
    assert [r["uuid"] for r in result.kept] == ["ok"]
    assert len(result.dropped) == 1
    number, why = result.dropped[0]
    assert number == 2 and why.startswith(reason + ":"), why
    assert check_row(text) == (None, why)


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
    assert number == 2 and why.startswith(f"{PARTIAL}{RULE_NOT_JSON}:")


def test_blank_lines_crlf_and_invalid_utf8() -> None:
    data = (line(uuid="a") + "\r\n\r\n   \n\ufeff\n\u00a0\n").encode()
    data += b'{"type":"system","uuid":"b\xff","timestamp":"2026-04-19"}\n'
    result = read_transcript(data)
    assert [r["uuid"] for r in result.kept] == ["a", "b\ufffd"]
    assert result.dropped == [] and result.partial_trailing_line is False


def test_empty_input() -> None:
    result = read_transcript(b"")
    assert (result.kept, result.dropped, result.partial_trailing_line) == ([], [], False)
