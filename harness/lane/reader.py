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
   and for which ``Date.parse`` is finite (Strict.ts:23-28, 126) → ``RULE_TIMESTAMP``. See
   :func:`js_date_parse_finite`. (jsonl.ts never drops on timestamp: jsonl.ts:325.)
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

Known gaps (the model errs towards *dropping*, never towards keeping a row a reader drops, except
where :func:`js_date_parse_finite` says otherwise): JSON nested deeper than Python's recursion limit
is reported as not JSON although V8 parses it; a file the strict parser cannot stat or read yields no
rows at all (Strict.ts:102-106), which is outside a per-line reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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

#: ECMAScript WhiteSpace + LineTerminator: what ``String.prototype.trim`` strips and what V8's date
#: parser treats as white space. Python's ``str.strip`` differs (it strips U+001C-U+001F and U+0085,
#: and keeps U+FEFF).
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


# --- Date.parse ----------------------------------------------------------------------------------------

# V8's date parser (src/date/dateparser.h, dateparser-inl.h, dateparser.cc) ported token for token; the
# names follow V8's. Only acceptance matters here, so the composers keep values, not a Date.
_NONE = 2**31 - 1  # V8's kNone (kMaxInt): a missing value
_SMI_MAX = 2**31 - 1  # Smi::kMaxValue with 32-bit Smis (x64 Node, no pointer compression)
_MAX_SIGNIFICANT_DIGITS = 9
_MAX_TIME_MS = 8.64e15  # ECMAScript TimeClip bound
_MAX_TIME_BEFORE_UTC_MS = _MAX_TIME_MS + 864_000_000  # DateCache::kMaxTimeBeforeUTCInMs

_INVALID, _MONTH_NAME, _TIME_ZONE_NAME, _TIME_SEPARATOR, _AM_PM = range(5)
_KEYWORDS: list[tuple[str, int, int]] = [
    *((name, _MONTH_NAME, number) for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)),
    ("am\0", _AM_PM, 0), ("pm\0", _AM_PM, 12),
    ("ut\0", _TIME_ZONE_NAME, 0), ("utc", _TIME_ZONE_NAME, 0), ("z\0\0", _TIME_ZONE_NAME, 0),
    ("gmt", _TIME_ZONE_NAME, 0), ("cdt", _TIME_ZONE_NAME, -5), ("cst", _TIME_ZONE_NAME, -6),
    ("edt", _TIME_ZONE_NAME, -4), ("est", _TIME_ZONE_NAME, -5), ("mdt", _TIME_ZONE_NAME, -6),
    ("mst", _TIME_ZONE_NAME, -7), ("pdt", _TIME_ZONE_NAME, -7), ("pst", _TIME_ZONE_NAME, -8),
    ("t\0\0", _TIME_SEPARATOR, 0),
]

_END, _NUMBER, _SYMBOL, _WHITESPACE, _UNKNOWN, _BAD, _KEYWORD = range(7)


@dataclass(frozen=True)
class _Token:
    tag: int
    value: Any = None
    length: int = 0
    keyword: int = _INVALID

    def is_symbol(self, char: str) -> bool:
        return self.tag == _SYMBOL and self.value == char

    def is_sign(self) -> bool:
        return self.tag == _SYMBOL and self.value in "+-"

    def is_number(self, length: int | None = None) -> bool:
        return self.tag == _NUMBER and (length is None or self.length == length)

    def is_keyword_z(self) -> bool:
        return self.tag == _KEYWORD and self.keyword == _TIME_ZONE_NAME and self.length == 1 and self.value == 0


class _Scanner:
    """V8's InputReader + DateStringTokenizer. A NUL character ends the input, as in V8."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0
        self.next_token = self._scan()

    def _ch(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else "\0"

    def _scan(self) -> _Token:
        ch = self._ch()
        if ch == "\0":
            return _Token(_END)
        start = self.pos
        if "0" <= ch <= "9":
            while "0" <= self._ch() <= "9":
                self.pos += 1
            digits = self.text[start:self.pos]
            significant = digits.lstrip("0")[:_MAX_SIGNIFICANT_DIGITS]  # leading zeros skipped, then 9 digits
            return _Token(_NUMBER, int(significant or "0"), len(digits))
        if ch in ":-+.)":
            self.pos += 1
            return _Token(_SYMBOL, ch, 1)
        if ch >= "A" and ch not in JS_WHITESPACE:  # a word: chars >= 'A', white space excluded
            while self._ch() >= "A" and self._ch() not in JS_WHITESPACE:
                self.pos += 1
            word = self.text[start:self.pos]
            prefix = "".join(chr(ord(c) | 0x20) for c in word[:3]).ljust(3, "\0")  # AsciiAlphaToLower
            for name, kind, value in _KEYWORDS:
                if prefix == name and (len(word) <= 3 or kind == _MONTH_NAME):
                    return _Token(_KEYWORD, value, len(word), kind)
            return _Token(_KEYWORD, 0, len(word), _INVALID)
        if ch in JS_WHITESPACE:
            self.pos += 1
            return _Token(_WHITESPACE)
        if ch == "(":  # skip balanced parentheses
            balance = 0
            while True:
                c = self._ch()
                balance += (c == "(") - (c == ")")
                self.pos += 1
                if balance <= 0 or self._ch() == "\0":
                    break
            return _Token(_UNKNOWN)
        self.pos += 1
        return _Token(_UNKNOWN)

    def next(self) -> _Token:
        token, self.next_token = self.next_token, self._scan()
        return token

    def peek(self) -> _Token:
        return self.next_token

    def skip_symbol(self, char: str) -> bool:
        if self.next_token.is_symbol(char):
            self.next_token = self._scan()
            return True
        return False


def _between(x: int, lo: int, hi: int) -> bool:
    return lo <= x <= hi


class _Time:
    def __init__(self) -> None:
        self.comp: list[int] = []
        self.hour_offset = _NONE

    def is_expecting(self, n: int) -> bool:
        index = len(self.comp)
        return (index == 1 and _between(n, 0, 59)) or (index == 2 and _between(n, 0, 59)) or (
            index == 3 and _between(n, 0, 999))

    def add(self, n: int) -> bool:
        if len(self.comp) < 4:
            self.comp.append(n)
            return True
        return False

    def add_final(self, n: int) -> bool:
        if not self.add(n):
            return False
        self.comp += [0] * (4 - len(self.comp))
        return True

    def write(self) -> tuple[int, int, int, int] | None:
        hour, minute, second, milli = [*self.comp, 0, 0, 0, 0][:4]
        if self.hour_offset != _NONE:
            if not _between(hour, 0, 12):
                return None
            hour = hour % 12 + self.hour_offset
        in_range = (_between(hour, 0, 23) and _between(minute, 0, 59) and _between(second, 0, 59)
                    and _between(milli, 0, 999))
        if not in_range and (hour, minute, second, milli) != (24, 0, 0, 0):
            return None
        return hour, minute, second, milli


class _Zone:
    def __init__(self) -> None:
        self.sign, self.hour, self.minute = _NONE, _NONE, _NONE

    def set(self, offset_hours: int) -> None:
        self.sign = -1 if offset_hours < 0 else 1
        self.hour, self.minute = offset_hours * self.sign, 0

    def is_expecting(self, n: int) -> bool:
        return self.hour != _NONE and self.minute == _NONE and _between(n, 0, 59)

    def is_utc(self) -> bool:
        return self.hour == 0 and self.minute == 0

    def write(self) -> tuple[bool, int | None]:
        """(ok, UTC offset in seconds or None for local time)."""
        if self.sign == _NONE:
            return True, None
        hour = 0 if self.hour == _NONE else self.hour
        minute = 0 if self.minute == _NONE else self.minute
        total = (hour * 3600 + minute * 60) & 0xFFFFFFFF  # V8 computes this in unsigned 32-bit
        if total > _SMI_MAX:
            return False, None
        return True, -total if self.sign < 0 else total


class _Day:
    def __init__(self) -> None:
        self.comp: list[int] = []
        self.named_month = _NONE
        self.iso = False

    def add(self, n: int) -> bool:
        if len(self.comp) < 3:
            self.comp.append(n)
            return True
        return False

    def write(self) -> tuple[int, int, int] | None:
        if not self.comp:
            return None
        comp = [*self.comp, 1, 1][:3]  # V8 pads to three *before* its "how many were given" tests
        year, month, day = 0, _NONE, _NONE
        if self.named_month == _NONE:
            if self.iso or not _between(comp[0], 1, 31):
                year, month, day = comp
            else:
                month, day, year = comp
        else:
            month = self.named_month
            if not _between(comp[0], 1, 31):
                year, day = comp[0], comp[1]
            else:
                day, year = comp[0], comp[1]
        if not self.iso:
            if _between(year, 0, 49):
                year += 2000
            elif _between(year, 50, 99):
                year += 1900
        if not (_between(month, 1, 12) and _between(day, 1, 31)):
            return None
        return year, month, day


def _read_milliseconds(token: _Token) -> int:
    number, length = token.value, token.length
    if length == 1:
        return int(number * 100)
    if length == 2:
        return int(number * 10)
    length = min(length, _MAX_SIGNIFICANT_DIGITS)
    return int(number // 10 ** (length - 3))


def _parse_es5(scanner: _Scanner, day: _Day, time: _Time, zone: _Zone) -> _Token:
    """V8's ParseES5DateTime: the ISO form; returns the token the legacy parser continues with."""
    if scanner.peek().is_sign():
        sign_token = scanner.next()
        if not scanner.peek().is_number(6):
            return sign_token
        sign = 1 if sign_token.value == "+" else -1
        year = scanner.next().value
        if sign < 0 and year == 0:
            return sign_token
        day.add(sign * year)
    elif scanner.peek().is_number(4):
        day.add(scanner.next().value)
    else:
        return scanner.next()
    if scanner.skip_symbol("-"):
        if not scanner.peek().is_number(2) or not _between(scanner.peek().value, 1, 12):
            return scanner.next()
        day.add(scanner.next().value)
        if scanner.skip_symbol("-"):
            if not scanner.peek().is_number(2) or not _between(scanner.peek().value, 1, 31):
                return scanner.next()
            day.add(scanner.next().value)
    peek = scanner.peek()
    if not (peek.tag == _KEYWORD and peek.keyword == _TIME_SEPARATOR):
        if peek.tag != _END:
            return scanner.next()
    else:
        scanner.next()
        if not scanner.peek().is_number(2) or not _between(scanner.peek().value, 0, 24):
            return _Token(_BAD)
        hour_is_24 = scanner.peek().value == 24
        time.add(scanner.next().value)
        if not scanner.skip_symbol(":"):
            return _Token(_BAD)
        peek = scanner.peek()
        if not peek.is_number(2) or not _between(peek.value, 0, 59) or (hour_is_24 and peek.value > 0):
            return _Token(_BAD)
        time.add(scanner.next().value)  # minutes
        if scanner.skip_symbol(":"):
            peek = scanner.peek()
            if not peek.is_number(2) or not _between(peek.value, 0, 59) or (hour_is_24 and peek.value > 0):
                return _Token(_BAD)
            time.add(scanner.next().value)  # seconds
            if scanner.skip_symbol("."):
                peek = scanner.peek()
                if not peek.is_number() or (hour_is_24 and peek.value > 0):
                    return _Token(_BAD)
                time.add(_read_milliseconds(scanner.next()))  # any number of digits
        if scanner.peek().is_keyword_z():
            scanner.next()
            zone.set(0)
        elif scanner.peek().is_sign():
            zone.sign = 1 if scanner.next().value == "+" else -1
            if scanner.peek().is_number(4):
                hour, minute = divmod(scanner.next().value, 100)
                if not (_between(hour, 0, 23) and _between(minute, 0, 59)):
                    return _Token(_BAD)
                zone.hour, zone.minute = hour, minute
            else:
                if not scanner.peek().is_number(2) or not _between(scanner.peek().value, 0, 23):
                    return _Token(_BAD)
                zone.hour = scanner.next().value
                if not scanner.skip_symbol(":"):
                    return _Token(_BAD)
                if not scanner.peek().is_number(2) or not _between(scanner.peek().value, 0, 59):
                    return _Token(_BAD)
                zone.minute = scanner.next().value
        if scanner.peek().tag != _END:
            return _Token(_BAD)
    if zone.hour == _NONE and not time.comp:  # date-only forms are UTC
        zone.set(0)
    day.iso = True
    return _Token(_END)


def _legacy(scanner: _Scanner, token: _Token, day: _Day, time: _Time, zone: _Zone) -> bool:
    """V8's legacy (Safari-compatible) loop, continuing where the ISO parser stopped."""
    has_read_number = bool(day.comp)
    while token.tag != _END:
        if token.tag == _NUMBER:
            has_read_number = True
            n = token.value
            if scanner.skip_symbol(":"):
                if scanner.skip_symbol(":"):
                    if time.comp:
                        return False
                    time.add(n)
                    time.add(0)
                else:
                    if not time.add(n):
                        return False
                    if scanner.peek().is_symbol("."):
                        scanner.next()
            elif scanner.skip_symbol(".") and time.is_expecting(n):
                time.add(n)
                if not scanner.peek().is_number():
                    return False
                time.add_final(_read_milliseconds(scanner.next()))
            elif zone.is_expecting(n):
                zone.minute = n
            elif time.is_expecting(n):
                time.add_final(n)
                peek = scanner.peek()
                if peek.tag not in (_END, _WHITESPACE) and not peek.is_keyword_z() and not peek.is_sign():
                    return False
            else:
                if not day.add(n):
                    return False
                scanner.skip_symbol("-")
        elif token.tag == _KEYWORD:
            if token.keyword == _AM_PM and time.comp:
                time.hour_offset = token.value
            elif token.keyword == _MONTH_NAME:
                day.named_month = token.value
                scanner.skip_symbol("-")
            elif token.keyword == _TIME_ZONE_NAME and has_read_number:
                zone.set(token.value)
            elif has_read_number or scanner.peek().tag == _NUMBER:
                return False  # a word after a number, or glued to the first number
        elif token.is_sign() and (zone.is_utc() or time.comp):
            zone.sign = 1 if token.value == "+" else -1
            n, length = 0, 0
            if scanner.peek().is_number():
                number = scanner.next()
                n, length = number.value, number.length
            has_read_number = True
            if scanner.peek().is_symbol(":"):
                zone.hour, zone.minute = n, _NONE
            elif length in (1, 2):
                zone.hour, zone.minute = n, 0
            elif length in (3, 4):
                zone.hour, zone.minute = divmod(n, 100)
            else:
                return False
        elif (token.is_sign() or token.is_symbol(")")) and has_read_number:
            return False
        token = scanner.next()
    return True


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (month 1-12; day may overflow)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def js_date_parse_finite(text: str) -> bool:
    """Whether ``Number.isFinite(Date.parse(text))`` holds in V8 (Node 20).

    A port of V8's date parser (``src/date/dateparser*.{h,cc}``) and of the range checks in
    ``ParseDateTimeString`` (``src/date/date.cc``): first the ECMAScript date-time string format
    (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, optionally ``THH:mm``, ``:ss``, ``.sss`` with any number of
    digits, ``Z`` or ``±HH:mm``/``±HHmm``, extended years ``±YYYYYY``); once a ``T`` has been read any
    failure is final. Otherwise V8's *legacy* parser takes over from the first token the ISO grammar
    did not use, which is what accepts ``2026-01-01 00:00:00``, ``Thu, 01 Jan 2026 00:00:00 GMT``,
    ``Jan 1 2026``, ``2026/01/01``, ``01/02/2026`` (month/day), ``Date.prototype.toString()`` output,
    and oddities such as ``"2026"`` … ``"12"`` (2001-12-01) or ``"Fri, 01 Jan 2026"`` (wrong weekday
    ignored); and what rejects ``20260101T000000Z`` (compact ISO), month 13, hour 25, ``Mon, 32 Jan``,
    words after a number (``not a date`` fails for having no number at all) and digit strings such as
    ``1767225600000`` (a year far past the ±275,760 limit).

    Where this is an approximation:

    * the legacy grammar is V8's, not ECMAScript's (the standard leaves non-ISO strings to the engine),
      ported from V8's source rather than from the exact V8 11.x build inside Node 20; it was checked
      against Node v20.20.2's ``Date.parse`` on the strings in ``tests/unit/test_reader.py`` and on
      generated variants of them, not proven equal;
    * strings without a UTC offset are local time in V8 and their range check uses the local offset;
      here the offset is taken as 0, so acceptance can differ within hours of the ±8.64e15 ms limit
      (around the years -271821 and 275760), nowhere else;
    * a JavaScript string is UTF-16 while ``text`` holds code points; no rule here depends on the
      difference (words are matched on their first three characters, all ASCII).
    """
    scanner = _Scanner(text)
    day, time, zone = _Day(), _Time(), _Zone()
    token = _parse_es5(scanner, day, time, zone)
    if token.tag == _BAD or not _legacy(scanner, token, day, time, zone):
        return False
    ymd, hms, (zone_ok, offset) = day.write(), time.write(), zone.write()
    if ymd is None or hms is None or not zone_ok:
        return False
    year, month, date = ymd
    if abs(year) > 1_000_000:  # MakeDay's year range
        return False
    hour, minute, second, milli = hms
    ms = _days_from_civil(year, month, date) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + milli
    if offset is None:
        if abs(ms) > _MAX_TIME_BEFORE_UTC_MS:
            return False
    else:
        ms -= offset * 1000
    return abs(ms) <= _MAX_TIME_MS


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
