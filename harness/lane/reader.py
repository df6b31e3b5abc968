"""The strict transcript reader: keeps a row exactly when both of claude_team's real readers keep it.

claude_team (github.com/777genius/claude_agent_teams_ui) reads transcripts with two readers, and both
*skip* what they cannot use rather than fail, which is exactly how a projection bug goes unnoticed: a
row silently vanishes. This module models both and keeps a row only when **both** keep it, reporting
every other row with its line number and the rule that dropped it, so the contract can demand zero drops.

* ``jsonl.ts``: ``parseJsonlFile``/``parseJsonlStream`` → ``parseJsonlLine`` → ``parseJsonlEntry``;
* the strict parser: ``BoardTaskExactLogStrictParser.parseFiles`` → ``readStrictFile``, which applies
  its own line, JSON and timestamp checks and then calls the same ``parseJsonlEntry``.

Sources, all at commit 9a8ea6af087503aa361eea07cd07f87f5ef979d2 (short names used below):

* ``jsonl.ts`` = ``src/main/utils/jsonl.ts``
* ``Strict.ts`` = ``src/main/services/team/taskLogs/exact/BoardTaskExactLogStrictParser.ts``
* ``toolExtraction.ts`` = ``src/main/utils/toolExtraction.ts``
* ``ActorContext.ts`` = ``src/main/services/team/taskLogs/TranscriptSessionActorContext.ts``

Rules, in the order they are checked; a drop reason starts with the rule's name (the ``RULE_*``
constants) and ends with the source lines:

1. **lines** — a row is an LF-terminated line (jsonl.ts:140), one trailing CR removed
   (jsonl.ts:105-107); the final line needs no LF (jsonl.ts:157-176; readline emits it too). Bytes are
   UTF-8 with replacement in both (jsonl.ts:109; Strict.ts:112). The strict parser reads through
   ``readline`` (Strict.ts:112-116), which *also* breaks at a lone CR: a line with a CR between
   non-blank text is not one row to both readers (``{a}\\r{b}`` is two rows to one, broken JSON to the
   other; a CR inside a row's JSON whitespace splits it for readline only) → ``RULE_CR_SPLIT``.
2. **blank lines** — a line that is empty after JavaScript ``String.prototype.trim`` is skipped by both
   (jsonl.ts:110-112; Strict.ts:120); it is not a row and never a drop.
3. **object line** — jsonl.ts trims the line (JS whitespace, which includes U+FEFF) and strips a BOM
   (jsonl.ts:213-216), then needs ``{`` first (jsonl.ts:115-118, 218-220): arrays, ``NaN``, strings,
   numbers, ``null`` never reach ``JSON.parse`` → ``RULE_NOT_OBJECT``. (The strict parser's own object
   test, Strict.ts:19-21/126, lets arrays through, but they fail rule 6; the ``{`` test subsumes it.)
4. **JSON** — ``JSON.parse`` of the trimmed line must succeed (jsonl.ts:205, errors caught at
   jsonl.ts:120-128; Strict.ts:124/136-138), with JavaScript semantics: no ``NaN``/``Infinity``, duplicate
   keys allowed (last wins), huge integers become floats → ``RULE_NOT_JSON``.
5. **raw line JSON** — the strict parser runs ``JSON.parse`` on the *raw* line, untrimmed (Strict.ts:124):
   a U+FEFF byte order mark before the object (on any line, not only the first) or other white space
   JSON does not allow (U+00A0, U+2028, ``\\v``, ``\\f``…) around it makes it throw, although jsonl.ts
   keeps the row → ``RULE_RAW_LINE``. Lines starting with U+FEFF are also listed in ``bom_lines``.
6. **timestamp** — the strict parser needs ``timestamp`` to be a string that is not blank after JS trim
   and for which ``Date.parse`` is finite (Strict.ts:23-28, 126) → ``RULE_TIMESTAMP``. That test is
   :func:`harness.lane.jsdate.js_date_parse_finite`, a grammar fitted to Node's observed answers that
   says NaN where it is unsure. (jsonl.ts never drops on timestamp: jsonl.ts:325.)
7. **uuid** — ``entry.uuid`` must be JavaScript-truthy, of any type (jsonl.ts:230-233): ``123``, ``true``,
   ``" "``, ``{}`` are kept; missing, ``""``, ``0``, ``false``, ``null`` dropped → ``RULE_UUID``.
8. **type** — exactly one of ``user``, ``assistant``, ``system``, ``summary``,
   ``file-history-snapshot``, ``queue-operation`` (jsonl.ts:235-238, 364-382) → ``RULE_TYPE``.
9. **message** — ``user``/``assistant`` rows read ``entry.message.content``, which throws when
   ``message`` is missing or ``null`` (jsonl.ts:284, 294) → ``RULE_MESSAGE``. A non-object ``message``
   (e.g. a string) does not throw: its ``.content`` is ``undefined``.
10. **content** — the row's content is, by type: ``user``: ``message.content ?? ''`` (jsonl.ts:284);
    ``assistant``: ``message.content`` with *no* default (jsonl.ts:294); ``system``: the top-level
    ``content ?? ''`` (jsonl.ts:301); any other type: ``''`` (jsonl.ts:241). It goes to
    ``extractToolCalls``/``extractToolResults`` (jsonl.ts:318-319), which return early for a string
    (toolExtraction.ts:11, 46) and otherwise run ``for (const block of content) block.type…``
    (toolExtraction.ts:17-18, 52-53): content must be a string or an array with no ``null`` element.
    So assistant content missing/null/object/number (or ``message`` a string) is dropped, user/system
    content that is an object, number or boolean is dropped, ``[null]`` is dropped → ``RULE_CONTENT``.

Never a drop: the actor-context tracker only copies ``agentId``/``agentName``/``isSidechain`` between
rows of one session (Strict.ts:130-131; ActorContext.ts:10-12, 31-107), and ``summary``,
``file-history-snapshot`` and ``queue-operation`` rows get no check beyond rules 1-8.

Known gaps (the model errs towards *dropping*, never towards keeping a row a reader drops, except for
a local time within a day of JavaScript's date range, which :mod:`harness.lane.jsdate` reads as UTC;
it drops timestamps in the exotic forms it does not model although Node parses them): JSON nested
deeper than Python's recursion limit is reported as not JSON although V8 parses it; a file the strict
parser cannot stat or read yields no rows at all (Strict.ts:102-106), which is outside a per-line reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Re-exported (the redundant alias marks it so): callers and tests import it from the reader.
from harness.lane.jsdate import js_date_parse_finite as js_date_parse_finite

KNOWN_TYPES = frozenset({"user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation"})

RULE_CR_SPLIT = "carriage return splits the line"
RULE_NOT_OBJECT = "not a JSON object line"
RULE_NOT_JSON = "not JSON"
RULE_RAW_LINE = "raw line is not JSON"
RULE_TIMESTAMP = "timestamp"
RULE_UUID = "uuid"
RULE_TYPE = "type"
RULE_MESSAGE = "message"
RULE_CONTENT = "content"

_J = "jsonl.ts"
_S = "Strict.ts"
_T = "toolExtraction.ts"

#: ECMAScript WhiteSpace + LineTerminator: what ``String.prototype.trim`` strips. Python's ``str.strip``
#: differs (it strips U+001C-U+001F and U+0085, and keeps U+FEFF).
JS_WHITESPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JS_WHITESPACE_TEXT = "".join(sorted(JS_WHITESPACE))


@dataclass(frozen=True)
class ReadResult:
    """Kept rows in file order; dropped rows as (1-based line number, reason)."""

    kept: list[dict[str, Any]]
    dropped: list[tuple[int, str]]
    bom_lines: list[int] = field(default_factory=list)
    partial_trailing_line: bool = False


def js_trim(text: str) -> str:
    """JavaScript ``String.prototype.trim``."""
    return text.strip(_JS_WHITESPACE_TEXT)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value: objects and arrays are truthy even when empty."""
    if isinstance(value, dict | list):
        return True
    return bool(value)  # None, False, 0, 0.0, -0.0, "" are falsy, as in JavaScript


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _js_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:  # more digits than Python's int() accepts: JavaScript reads a double
        return float(text)


def js_json_parse(text: str) -> Any:
    """``JSON.parse``: raises ValueError where JavaScript throws a SyntaxError.

    Python's parser agrees with JavaScript's on JSON whitespace (space, tab, LF, CR only), on a leading
    U+FEFF (an error), on control characters in strings (an error) and on duplicate keys (the last one
    wins). It differs on ``NaN``/``Infinity`` (Python accepts them: rejected here) and on integers with
    thousands of digits (rejected by ``int()``: read as floats here, as JavaScript does).
    """
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_js_number)
    except RecursionError as exc:
        raise ValueError("nested deeper than this reader follows") from exc


# --- the rows ------------------------------------------------------------------------------------------

def _content_rule(content: Any, where: str) -> str | None:
    if isinstance(content, str):
        return None
    if isinstance(content, list):
        if any(block is None for block in content):
            return (f"{RULE_CONTENT}: {where} is an array with a null block, so `block.type` throws "
                    f"[{_T}:17-18, 52-53; {_J}:318-319]")
        return None
    shown = "missing" if content is _MISSING else f"{_js_type(content)}"
    return (f"{RULE_CONTENT}: {where} is {shown}, not a string or an array: `for (const block of content)` "
            f"throws [{_T}:11-18, 46-53; {_J}:318-319]")


_MISSING: Any = object()


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _entry_rules(row: dict[str, Any]) -> str | None:
    """``parseJsonlEntry`` (jsonl.ts:209-359): None when it returns a message without throwing."""
    if not js_truthy(row.get("uuid")):
        shown = "missing" if "uuid" not in row else f"{json.dumps(row['uuid'])}, falsy in JavaScript"
        return f"{RULE_UUID}: {shown}, so `!entry.uuid` skips the row [{_J}:230-233]"
    kind = row.get("type")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:
        shown = "missing" if "type" not in row else json.dumps(kind)
        return f"{RULE_TYPE}: {shown}, not one of {', '.join(sorted(KNOWN_TYPES))} [{_J}:235-238, 364-382]"
    if kind in ("user", "assistant"):
        line = "284" if kind == "user" else "294"
        message = row.get("message")
        if message is None:
            shown = "missing" if "message" not in row else "null"
            return f"{RULE_MESSAGE}: {kind} row's message is {shown}, so `entry.message.content` throws [{_J}:{line}]"
        content = message.get("content", _MISSING) if isinstance(message, dict) else _MISSING
        if kind == "user":
            content = "" if content is _MISSING or content is None else content
            return _content_rule(content, f"user message.content (`?? ''`, {_J}:284)")
        where = "assistant message.content (no default, " + f"{_J}:294)"
        if not isinstance(message, dict):
            where = f"assistant message.content (message is {_js_type(message)}, {_J}:294)"
        return _content_rule(content, where)
    if kind == "system":
        content = row.get("content")
        return _content_rule("" if content is None else content, f"system content (`?? ''`, {_J}:301)")
    return None


def _timestamp_rule(row: dict[str, Any]) -> str | None:
    """``hasStrictTimestamp`` (Strict.ts:23-28)."""
    value = row.get("timestamp", _MISSING)
    where = f"[{_S}:23-28, 126]"
    if value is _MISSING:
        return f"{RULE_TIMESTAMP}: missing; the strict parser requires a string {where}"
    if not isinstance(value, str):
        return f"{RULE_TIMESTAMP}: {json.dumps(value)} is not a string {where}"
    if not js_trim(value):
        return f"{RULE_TIMESTAMP}: {json.dumps(value)} is blank {where}"
    if not js_date_parse_finite(value):
        return f"{RULE_TIMESTAMP}: Date.parse({json.dumps(value)}) is NaN {where}"
    return None


def check_row(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(row, None) if both readers keep the row on this line, else (None, reason).

    ``text`` is one LF-delimited line without its LF (a trailing CR is allowed); a blank line is
    reported as ``not a JSON object line`` here, while :func:`read_transcript` skips blank lines.
    """
    pieces = [piece for piece in text.removesuffix("\r").split("\r") if js_trim(piece)]
    if len(pieces) > 1:
        return None, (f"{RULE_CR_SPLIT}: readline breaks at a lone CR and reads {len(pieces)} lines here "
                      f"[{_S}:112-116], jsonl.ts reads one [{_J}:105-107, 140]")
    normalized = js_trim(text.removesuffix("\r")).removeprefix("\ufeff")
    if not normalized.startswith("{"):
        return None, f"{RULE_NOT_OBJECT}: does not start with '{{' after trimming [{_J}:115-118, 213-220]"
    try:
        row = js_json_parse(normalized)
    except ValueError as exc:
        return None, f"{RULE_NOT_JSON}: {exc} [{_J}:205, 120-128; {_S}:124, 136-138]"
    if not isinstance(row, dict):  # unreachable: '{' first and valid JSON is an object
        return None, f"{RULE_NOT_OBJECT}: not a JSON object [{_J}:218-220]"
    if pieces[0] != normalized:
        try:
            js_json_parse(pieces[0])
        except ValueError:
            around = sorted(set(pieces[0].replace(normalized, "", 1)) - {" ", "\t"})
            what = ", ".join("U+FEFF (a byte order mark)" if c == "\ufeff" else f"U+{ord(c):04X}" for c in around)
            return None, (f"{RULE_RAW_LINE}: the strict parser JSON.parses the untrimmed line, which has {what} "
                          f"around the object [{_S}:124]; jsonl.ts trims it [{_J}:213-216]")
    reason = _timestamp_rule(row) or _entry_rules(row)
    if reason is not None:
        return None, reason
    return row, None


def read_transcript(data: bytes | str) -> ReadResult:
    """Apply the rules to a whole transcript; never raises."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    lines = text.split("\n")
    partial = lines[-1] != ""
    if not partial:
        lines.pop()
    kept: list[dict[str, Any]] = []
    dropped: list[tuple[int, str]] = []
    bom_lines: list[int] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("\ufeff"):
            bom_lines.append(number)
        if not js_trim(line):
            continue
        row, reason = check_row(line)
        if row is not None:
            kept.append(row)
        else:
            if partial and number == len(lines):
                reason = f"partial trailing line (no newline): {reason}"
            dropped.append((number, str(reason)))
    return ReadResult(kept=kept, dropped=dropped, bom_lines=bom_lines,
                      partial_trailing_line=partial and bool(js_trim(lines[-1])))
