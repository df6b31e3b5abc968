"""``Number.isFinite(Date.parse(text))`` as Node v20 answers it: a small grammar, errs towards NaN.

The strict reader drops a row whose ``timestamp`` JavaScript cannot parse, so it needs a yes/no answer
to "is ``Date.parse(text)`` finite?". This module gives it with two independent pieces:

* **ISO** — the ECMAScript Date Time String Format (ECMA-262 §21.4.1.32): ``YYYY``, ``YYYY-MM``,
  ``YYYY-MM-DD``, optionally ``THH:mm``, ``:ss``, ``.sss`` (any number of fraction digits, as V8
  allows), then ``Z`` or ``±HH:mm``; expanded years ``±YYYYYY`` (``-000000`` is invalid). Observed
  in Node on top of the specification: ``t``/``z`` may be lower case, the offset may omit its colon
  (``+0530``), ``Z`` (but not an offset) may follow a date without a time, ``T24:00`` is midnight
  of the next day, a day up to 31 is accepted in any month (``02-31`` rolls over).
* **legacy** — V8's fallback parser for everything else, *approximated from observation*: it was not
  read or translated from V8's source, but written to match what ``Date.parse`` returned in Node
  v20.20.2 for the forms below (``tests/unit/test_jsdate.py`` pins those observations):

  - an optional leading word, ignored (a weekday, ``Thu,`` or ``Thursday,``; any word but a month);
  - a date: numbers separated by ``-``, ``/``, ``.`` or spaces (``2026/01/01``, ``2026-1-1``,
    ``01/02/2026`` is month/day/year), or a month name (its first three letters count, any case)
    with one or two numbers (``Jan 1 2026``, ``1 Jan 2026``, ``January 1, 2026``, ``2026-Jan-01``);
    the first number is a year when it is 0 or above 31, so ``2026 1 2`` is year/month/day and
    ``1 2 2026`` month/day/year; years below 50 are 20xx, below 100 19xx; a missing day is the 1st
    and a missing year a fixed one (2001 in V8), so ``Jan 1``, ``1/2`` and even ``12`` are dates;
  - an optional time ``H:mm[:ss[.fff…]]`` after a space or comma, then ``AM``/``PM`` after a space;
  - an optional zone: ``GMT``/``UTC``/``UT``/``Z``, optionally followed by an offset ``±h``, ``±hh``,
    ``±hh:mm`` or ``±hhmm``, or a US zone (``EST``, ``EDT``, ``CST``, ``CDT``, ``MST``, ``MDT``, ``PST``,
    ``PDT``); after a time, also a bare offset (``+01:00``) or a glued ``Z``;
  - an optional trailing comment in parentheses, as ``Date.prototype.toString()`` writes one.

There is no ``T`` in the legacy grammar: Node gives NaN for ISO-looking text with a ``T`` that is not
exact ISO (``20260101T000000Z``, ``2026-1-1T00:00Z``, a trailing space). Where Node accepts something
the grammar does not model (a time before the date, stray words, numbers or punctuation after it, both
numbers before a month name, minute or second 60, offsets beyond 23:59, three-digit offsets, an offset
after a US zone, signs before date numbers, repeated zones, comments glued on or not at the end,
control characters as white space…), the answer is ``False``: the reader errs towards dropping a row.
Checked against Node on some 300,000 generated date-like and garbled strings while it was written: it
called none finite that Node called NaN (the tests re-run a smaller such sample when Node v20 is there).
Time zone: a time without a zone is local; it is read here as UTC (the observations ran with
``TZ=Etc/UTC``), which only matters within a day of the ±8.64e15 ms limit.
"""

from __future__ import annotations

import re
from datetime import date

_MAX_MS = 8_640_000_000_000_000  # ECMAScript TimeClip: |t| <= 8.64e15 ms
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1).toordinal()
#: ECMAScript white space and line terminators, except U+2028/U+2029 (observed: Node's Date.parse
#: rejects those where it accepts the others).
_WS = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]"
_FLAGS = re.ASCII | re.IGNORECASE | re.VERBOSE

_ISO = re.compile(r"""
    (?P<year>[0-9]{4}|[+-][0-9]{6}) (?:-(?P<month>[0-9]{2}) (?:-(?P<day>[0-9]{2}))? )?
    (?:T (?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}) (?::(?P<second>[0-9]{2}) (?:\.(?P<fraction>[0-9]+))? )? )?
    (?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?
""", _FLAGS)

_MONTH = rf"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:\.(?={_WS}|,))?"
_NUM = r"[0-9]{1,6}"
_DATE_SEP = rf"(?:[-/.]|{_WS}+)"  # between the numbers of a numeric date
_NAME_SEP = rf"(?:{_WS}*,{_WS}*|{_WS}+|[-/])"  # around a month name
_OFFSET = r"[+-](?:[0-9]{4}|[0-9]{1,2}(?::[0-9]{2})?)(?![0-9:])"
_LEGACY = re.compile(rf"""
    {_WS}*
    (?: (?!{_MONTH})[a-z]+(?![a-z]) (?:\.?,?{_WS}+|\.?,) )?                     # Thu, / Thursday: ignored
    (?: (?P<n1>{_NUM}) (?:{_DATE_SEP}(?P<n2>{_NUM}) (?:{_DATE_SEP}(?P<n3>{_NUM}))? )?  # 2026-1-1, 01/02/2026
      | (?P<month1>{_MONTH}) {_NAME_SEP} (?P<a1>{_NUM}) (?:{_NAME_SEP}(?P<b1>{_NUM}))?  # Jan 1, 2026
      | (?P<a2>{_NUM}) {_NAME_SEP} (?P<month2>{_MONTH}) (?:{_NAME_SEP}(?P<b2>{_NUM}))?  # 1 Jan 2026
    )
    (?: (?:{_WS}*,{_WS}*|{_WS}+)                                                 # 10:00:00.123 PM
        (?P<hour>[0-9]{{1,2}}):(?P<minute>[0-9]{{1,2}}) (?::(?P<second>[0-9]{{1,2}}) (?:\.(?P<fraction>[0-9]+))? )?
        (?:{_WS}+(?P<ampm>am|pm)(?![a-z]))?
        (?: {_WS}*(?P<time_offset>{_OFFSET}) | z(?![a-z]) )?                     # +0100, -05:00, a glued Z
    )?
    (?: {_WS}+ (?: (?:gmt|utc|ut|z)(?![a-z]) (?:{_WS}*(?P<zone_offset>{_OFFSET}))?  # GMT, UTC+01:00
                 | (?P<us_zone>[ecmp][sd]t)(?![a-z]) ) )?                        # EST, CDT, MST, PDT...
    (?: {_WS}+ \((?:[^()]|\([^()]*\))*\) )?                                      # (Coordinated Universal Time)
    {_WS}*
""", _FLAGS)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _epoch_ms(year: int, month: int, day: int, hour: int, minute: int, second: int, fraction: str | None,
              offset_minutes: int) -> int:
    """Milliseconds since the epoch; ``day`` may overrun its month (Feb 31 is Mar 3), as in JavaScript."""
    cycles, year_in_cycle = divmod(year, 400)  # date() only knows years 1-9999; the calendar repeats every 400
    first = date(year_in_cycle + 400, month, 1).toordinal() + (cycles - 1) * 146_097 - _EPOCH
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return ((first + day - 1) * _DAY_MS + ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis)


def _offset_minutes(text: str | None) -> int | None:
    """``±h``, ``±hh``, ``±hh:mm`` or ``±hhmm`` in minutes east of UTC; None when out of range."""
    if not text:
        return 0
    digits = text[1:].replace(":", "")
    hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    if hours > 23 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (-1 if text[0] == "-" else 1)


def _time_ok(hour: int, minute: int, second: int, fraction: str | None) -> bool:
    if hour == 24:
        return minute == second == 0 and not (fraction or "").strip("0")
    return hour < 24 and minute < 60 and second < 60


def _iso(match: re.Match[str]) -> bool:
    year_text, hour_text = match["year"], match["hour"]
    offset_text = None if match["zone"] in (None, "Z", "z") else match["zone"]
    if year_text == "-000000" or (hour_text is None and offset_text is not None):  # 2026-01-01+01:00: NaN
        return False
    month, day = int(match["month"] or 1), int(match["day"] or 1)
    hour, minute, second = int(hour_text or 0), int(match["minute"] or 0), int(match["second"] or 0)
    offset = _offset_minutes(offset_text)
    if not (1 <= month <= 12 and 1 <= day <= 31) or not _time_ok(hour, minute, second, match["fraction"]):
        return False
    return offset is not None and abs(_epoch_ms(int(year_text), month, day, hour, minute, second,
                                                match["fraction"], offset)) <= _MAX_MS


def _full_year(value: int) -> int:
    return value + 2000 if value < 50 else value + 1900 if value < 100 else value


def _legacy_date(match: re.Match[str]) -> tuple[int, int, int]:
    """(year, month, day) from the matched numbers, following the observed composition rules."""
    def year_like(value: int) -> bool:
        return value == 0 or value > 31

    def number(name: str, default: int) -> int:
        return default if match[name] is None else int(match[name])

    if match["n1"] is not None:
        first = int(match["n1"])
        if year_like(first):
            return _full_year(first), number("n2", 1), number("n3", 1)
        return _full_year(number("n3", 2001)), first, number("n2", 1)
    month_text, a, b = (match["month1"], match["a1"], "b1") if match["month1"] else (match["month2"], match["a2"], "b2")
    month = _MONTHS.index(month_text[:3].lower()) + 1
    if year_like(int(a)):
        return _full_year(int(a)), month, number(b, 1)
    return _full_year(number(b, 2001)), month, int(a)


def _legacy(match: re.Match[str]) -> bool:
    year, month, day = _legacy_date(match)
    hour, minute, second = int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0)
    if match["ampm"]:
        if hour > 12:
            return False
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    offset = _offset_minutes(match["time_offset"] or match["zone_offset"])
    if match["us_zone"] and offset is not None:  # EST is -5h, CST -6h, MST -7h, PST -8h; daylight +1h
        us_zone = match["us_zone"].lower()
        offset = offset + 60 * ("d" in us_zone) - 60 * (5 + "ecmp".index(us_zone[0]))
    if offset is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    return _time_ok(hour, minute, second, match["fraction"]) and abs(
        _epoch_ms(year, month, day, hour, minute, second, match["fraction"], offset)) <= _MAX_MS


def js_date_parse_finite(text: str) -> bool:
    """True iff ``Number.isFinite(Date.parse(text))`` in Node v20 (approximate; see the module docstring)."""
    iso = _ISO.fullmatch(text)
    if iso is not None:
        return _iso(iso)
    legacy = _LEGACY.fullmatch(text)
    return legacy is not None and _legacy(legacy)
