"""Canary rows for the strict reader: rows claude_team's readers drop (and a few they keep), made from
a real transcript's own rows with one thing broken.

Why: the reader is the contract's judge of "zero dropped rows", and the lane always writes good rows, so
a reader weakened by a bug (one that accepts an empty or null ``uuid``, a missing timestamp, a user row
without ``message``) would change no verdict: every projection would still "pass". Mixed into each
cell's real transcript, these rows make the reader prove, on every build, that it still drops what the
real readers drop — with the rule that drops it — and keeps what they keep.

Each canary's verdict is one of the conformance rows observed with claude_team's own readers under Node
(tests/unit/test_reader.py, 2026-11-30); ``source`` names its line there and in claude_team.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
)

_MISSING: Any = object()


@dataclass(frozen=True)
class Canary:
    """One line to feed the reader; ``rule`` is the rule that must drop it (None: it must be kept)."""

    name: str
    line: str
    rule: str | None
    source: str


def _line(row: Mapping[str, Any]) -> str:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def _with(row: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**row, **changes}
    return {k: v for k, v in out.items() if v is not _MISSING}


def _message(row: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    message = dict(row.get("message") or {})
    message.update(changes)
    return _with(row, message={k: v for k, v in message.items() if v is not _MISSING})


def _first(rows: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((r for r in rows if r.get("type") == kind), None)


def canaries(rows: Sequence[Mapping[str, Any]]) -> list[Canary]:
    """The canaries made from a transcript's rows (it needs a user and a system row; an assistant row
    adds the assistant ones). Row names in ``source`` are those of tests/unit/test_reader.py."""
    user, system, assistant = _first(rows, "user"), _first(rows, "system"), _first(rows, "assistant")
    if user is None or system is None:
        raise ValueError("a transcript without a user and a system row: no canary can be made from it")
    made: list[tuple[str, Callable[[], str], str | None, str]] = [
        ("uuid empty", lambda: _line(_with(user, uuid="")), RULE_UUID, "uuid_empty_string; jsonl.ts:230-233"),
        ("uuid null", lambda: _line(_with(user, uuid=None)), RULE_UUID, "uuid_null; jsonl.ts:230-233"),
        ("uuid zero", lambda: _line(_with(system, uuid=0)), RULE_UUID, "uuid_zero; jsonl.ts:230-233"),
        ("uuid false", lambda: _line(_with(system, uuid=False)), RULE_UUID, "uuid_false; jsonl.ts:230-233"),
        ("uuid missing", lambda: _line(_with(user, uuid=_MISSING)), RULE_UUID, "uuid_missing; jsonl.ts:230-233"),
        ("type unknown", lambda: _line(_with(system, type="codex_native")), RULE_TYPE,
         "type_unknown_progress; jsonl.ts:235-238"),
        ("type missing", lambda: _line(_with(user, type=_MISSING)), RULE_TYPE, "type_missing; jsonl.ts:235-238"),
        ("timestamp missing", lambda: _line(_with(user, timestamp=_MISSING)), RULE_TIMESTAMP,
         "ts_missing; Strict.ts:23-28"),
        ("timestamp number", lambda: _line(_with(system, timestamp=1767225600000)), RULE_TIMESTAMP,
         "ts_numeric_ms; Strict.ts:23-28"),
        ("timestamp blank", lambda: _line(_with(user, timestamp="  ")), RULE_TIMESTAMP,
         "ts_whitespace; Strict.ts:23-28"),
        ("timestamp unparseable", lambda: _line(_with(system, timestamp="yesterday")), RULE_TIMESTAMP,
         "ts_not_a_date; Strict.ts:23-28"),
        ("user message null", lambda: _line(_with(user, message=None)), RULE_MESSAGE,
         "user_message_null; jsonl.ts:284"),
        ("user message missing", lambda: _line(_with(user, message=_MISSING)), RULE_MESSAGE,
         "user_message_missing; jsonl.ts:284"),
        ("user content object", lambda: _line(_message(user, content={"type": "text", "text": "x"})), RULE_CONTENT,
         "user_content_object; toolExtraction.ts:17"),
        ("user content null block", lambda: _line(_message(user, content=[None])), RULE_CONTENT,
         "assistant_content_array_with_null_block; toolExtraction.ts:52-53"),
        ("system content object", lambda: _line(_with(system, content={"x": 1})), RULE_CONTENT,
         "system_content_object; jsonl.ts:301"),
        ("array line", lambda: "[" + _line(user) + "]", RULE_NOT_OBJECT, "json_array_line; jsonl.ts:115-118"),
        ("NaN in JSON", lambda: _line(user)[:-1] + ',"n":NaN}', RULE_NOT_JSON, "nan_value; jsonl.ts:205"),
        ("byte order mark", lambda: "\ufeff" + _line(system), RULE_RAW_LINE, "bom_prefixed_line; Strict.ts:124"),
        ("lone CR", lambda: _line(system) + "\r" + _line(user), RULE_CR_SPLIT,
         "lone_cr_separator (FILES); Strict.ts:112-116"),
        # kept by both readers: a reader that drops these is stricter than the readers it models
        ("uuid numeric", lambda: _line(_with(user, uuid=123)), None, "uuid_numeric; jsonl.ts:231"),
        ("uuid blank", lambda: _line(_with(system, uuid=" ")), None, "uuid_whitespace; jsonl.ts:231"),
        ("user content missing", lambda: _line(_message(user, content=_MISSING)), None,
         "user_content_missing; jsonl.ts:284 (`?? ''`)"),
    ]
    if assistant is not None:
        made += [
            ("assistant content null", lambda: _line(_message(assistant, content=None)), RULE_CONTENT,
             "assistant_content_null; jsonl.ts:294"),
            ("assistant content missing", lambda: _line(_message(assistant, content=_MISSING)), RULE_CONTENT,
             "assistant_content_missing; jsonl.ts:294"),
            ("assistant message missing", lambda: _line(_with(assistant, message=_MISSING)), RULE_MESSAGE,
             "assistant_message_missing; jsonl.ts:294"),
        ]
    return [Canary(name, make(), rule, source) for name, make, rule, source in made]


def interleave(rows: Sequence[Mapping[str, Any]], birds: Sequence[Canary]) -> tuple[bytes, dict[int, Canary]]:
    """The transcript with a canary after each real row (the rest at the end), as JSONL bytes, and the
    1-based line number of each canary."""
    lines: list[str] = []
    where: dict[int, Canary] = {}
    pending = list(birds)
    for row in rows:
        lines.append(_line(row))
        if pending:
            lines.append(pending[0].line)
            where[len(lines)] = pending.pop(0)
    for bird in pending:
        lines.append(bird.line)
        where[len(lines)] = bird
    return "".join(line + "\n" for line in lines).encode("utf-8"), where
