"""``js_date_parse_finite`` against Node's real ``Date.parse``.

Every verdict below was OBSERVED, not derived: each string was given to ``Date.parse`` under Node
v20.20.2 (``TZ=Etc/UTC``) on the day this module was written, and ``Number.isFinite`` of each result
copied into the tables below (``True`` = a finite time, ``False`` = NaN). ``CASES`` are
strings where the grammar in ``harness/lane/jsdate.py`` must give Node's answer; ``KNOWN_DIFFERENCES``
are strings Node parses (all observed finite) that the grammar deliberately does not model, where it
must say NaN: the strict reader errs towards dropping a row, never towards keeping one Node drops.

When Node v20 is on the PATH, ``test_tables_and_a_sample_still_agree_with_node`` re-asks it live: the
tables must still be Node's answers, and on a fixed sample of a few thousand date-like and garbled
strings the grammar must never call finite what Node calls NaN.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess

import pytest

from harness.lane import reader
from harness.lane.jsdate import js_date_parse_finite

CASES: list[tuple[str, bool]] = [
    # ISO
    ("2026-01-01T00:00:00.000Z", True), ("2026-01-01T00:00:00Z", True), ("2026-01-01T00:00Z", True),
    ("2026-01-01T00:00:00", True), ("2026-01-01", True), ("2026-01", True), ("2026", True), ("0000", True),
    ("2026-01-01t00:00:00z", True), ("2026-01-01T00:00:00.1Z", True), ("2026-01-01T00:00:00.123456789Z", True),
    ("2026-01-01T00:00:00+05:30", True), ("2026-01-01T00:00:00+0530", True), ("2026-01-01T00:00:00-00:00", True),
    ("2026-01-01T00:00:00+23:59", True), ("2026-01-01Z", True), ("2026Z", True), ("2026-02-31T00:00:00Z", True),
    ("2026-01-01T24:00:00Z", True), ("2026-01-01T24:00:00.000Z", True), ("+002026-01-01T00:00:00Z", True),
    ("-000001-01-01T00:00:00Z", True), ("+000000-01-01T00:00:00Z", True), ("+275760-09-13T00:00:00Z", True),
    ("-271821-04-20T00:00:00Z", True), ("-000000-01-01T00:00:00Z", False), ("+275760-09-13T00:00:00.001Z", False),
    ("-271821-04-19T23:59:59.999Z", False), ("+275760-09-13T00:00:00-01:00", False), ("2026-01-01T24:00:01Z", False),
    ("2026-01-01T24:00:00.001Z", False), ("2026-01-01T25:00:00Z", False), ("2026-01-01T00:60:00Z", False),
    ("2026-01-01T00:00:60Z", False), ("2026-13-01T00:00:00Z", False), ("2026-00-01", False), ("2026-01-00", False),
    ("2026-01-32", False), ("2026-01-01T00:00:00.Z", False), ("2026-01-01T1:00", False), ("2026-01-01T01", False),
    ("2026-01-01T", False), ("2026-01-01T00:00:00+01", False), ("2026-01-01T00:00:00+24:00", False),
    ("2026-01-01+01:00", False), ("2026-01-01T00:00:00Z ", False), (" 2026-01-01T00:00:00Z", False),
    ("2026-01-01T00:00:00 Z", False), ("2026-01-01T10:00 PM", False), ("2026-1-1T00:00:00Z", False),
    ("20260101T000000Z", False), ("20260101", False), ("026-01-01", False),
    # legacy: numeric dates
    ("2026-01-01 00:00:00", True), ("2026-01-01 00:00:00Z", True), ("2026-01-01 00:00:00 UTC", True),
    ("2026-01-01 00:00:00.123456+00:00", True), ("2026-01-01 10:00 PM", True), ("2026-01-01 ", True),
    ("\t2026-01-01", True), ("2026-1-1", True), ("2026/01/01", True), ("2026/01/01 00:00:00 +0000", True),
    ("2026.1.2", True), ("2026 01 01", True), ("01/02/2026", True), ("1/2/26", True), ("1-2-2026", True),
    ("12/31/2026", True), ("1/31/2026", True), ("2/31/2026", True), ("1/32/2026", False), ("13/1/2026", False),
    ("31/12/2026", False), ("0/1/2026", False), ("2026/13/1", False), ("1/2", True), ("2026/1", True),
    ("1/2026", False), ("99-01-01", True), ("20260-01-01", True), ("0", True), ("12", True), ("13", False),
    ("31", False), ("32", True), ("99", True), ("100", True), ("275760", True), ("275761", False),
    ("1767225600000", False), ("275760/9/13", True), ("275760/9/14", False), ("2026/01/01T00:00:00", False),
    ("1/1/-2026", False),
    # legacy: month names
    ("Jan 1 2026", True), ("1 Jan 2026", True), ("January 1, 2026 10:00", True), ("January 1, 2026 10:00 PM", True),
    ("Jan. 1, 2026", True), ("2026 Jan 1", True), ("2026-Jan-01", True), ("01-Jan-26", True), ("Jan 2026", True),
    ("Jan 1", True), ("Jan 32", True), ("jan 1 2026", True), ("JANUARY 1 2026", True), ("Janxyz 1 2026", True),
    ("Sept 1 2026", True), ("Feb 30 2026", True), ("Feb 32 2026", False), ("Jan", False), ("Ja 1 2026", False),
    ("Mai 1 2026", False), ("Jan 1st 2026", False), ("Sep 13 275760", True), ("Sep 14 275760", False),
    ("Sep 13 275760 00:00 EST", False), ("2026 Jan 2026", False), ("Foo1 Jan 2026", False),
    # legacy: RFC 2822 / toString / toLocaleString
    ("Thu, 01 Jan 2026 00:00:00 GMT", True), ("Fri, 01 Jan 2026 00:00:00 GMT", True),
    ("01 Jan 2026 00:00:00 GMT", True), ("Thu, 01 Jan 2026", True), ("Thursday, January 1, 2026", True),
    ("Thu,01 Jan 2026", True), ("Thu, 01 Jan 2026 00:00:00 +0000", True), ("Thu, 01 Jan 2026 00:00:00 -0500", True),
    ("Thu, 01 Jan 2026 00:00:00 EST", True), ("Thu, 01 Jan 2026 00:00:00 PDT", True),
    ("Thu, 1 Jan 26 00:00 UT", True), ("Mon, 32 Jan 2026", False),
    ("Thu Jan 01 2026 00:00:00 GMT+0000 (Coordinated Universal Time)", True),
    ("Thu Jan 01 2026 01:00:00 GMT+0100 (Central European Standard Time)", True), ("1/1/2026, 10:00:00 AM", True),
    ("1/1/2026, 10:00:00 PM", True),
    # legacy: times and zones
    ("Jan 1 2026 10:00:00.123", True), ("Jan 1 2026 12:00 AM", True), ("Jan 1 2026 0:00 PM", True),
    ("Jan 1 2026 13:00 PM", False), ("Jan 1 2026 24:00", True), ("Jan 1 2026 24:01", False),
    ("Jan 1 2026 25:00", False), ("Jan 1 2026 10:00PM", False), ("Jan 1 2026 10 PM", False),
    ("Jan 1 2026 10:00:00,123", False), ("Jan 1 2026 10:00 GMT+1", True), ("Jan 1 2026 10:00 GMT-05:30", True),
    ("Jan 1 2026 10:00 UTC+0100", True), ("Jan 1 2026 10:00 -05:00", True), ("Jan 1 2026 10:00Z", True),
    ("Jan 1 2026 GMT", True), ("Jan 1 2026 +0100", False), ("Jan 1 2026 10:00GMT", False),
    ("Jan 1 2026 10:00 CET", False), ("Jan 1 2026 10:00 GMT + 0100", False), ("Jan 1 2026 PDT+1", False),
    ("Jan 1 2026T10:00", False), ("Jan 1 2026 foo", False), ("Jan 1 2026 )", False), ("10:00", False),
    ("1 2 3 4", False), ("Jan 1 2026 (note)", True),
    # junk
    ("", False), ("   ", False), ("not a date", False), ("\u2028Jan 1 2026", False),
]

#: Node v20 finite, the grammar NaN, and why (the form the grammar does not model).
KNOWN_DIFFERENCES: list[tuple[str, str]] = [
    ("Jan 1 2026 23:60", "minute 60"),
    ("Jan 1 2026 23:59:60", "second 60"),
    ("Jan 1 2026 10:", "a time without minutes"),
    ("Jan 1 2026 10:00 GMT+2400", "offset hour above 23"),
    ("Jan 1 2026 10:00 GMT+0160", "offset minute above 59"),
    ("Jan 1 2026 10:00 GMT+100", "three-digit offset"),
    ("10:00 Jan 1 2026", "time before the date"),
    ("Jan 1 2026 5", "a stray number after the date"),
    ("Jan 1 2026 10:00 AM 5", "a stray number after the time"),
    ("Jan 1 2026 10:00 GMT AM", "AM/PM after the zone"),
    ("1 2026 Jan", "both numbers before the month name"),
    ("Jan 1 GMT 2026", "a zone inside the date"),
    ("-1/1/2026", "a sign before a date number"),
    ("+02026-01-01", "a signed year outside the ISO format"),
    ("1Jan2026", "a month name glued to numbers"),
    ("Jan.1 2026", "a month abbreviation dot glued to the day"),
    ("Jan 1 2026 @ 10:00", "punctuation between date and time"),
    ("Jan 1 2026 .", "trailing punctuation"),
    ("Jan 1 2026 (a (b", "an unclosed nested comment"),
    ("Jan 1 2026 10:00 z(x)", "a comment glued to the zone"),
    ("2026-01-01 00:00:00 GMT GMT", "a repeated zone"),
    ("Jan 1 2026 10:00 EST+0100", "an offset after a US zone name"),
    ("\x1cJan 1 2026", "control characters as white space"),
    ("2026, 01, 01", "commas between numbers"),
]


@pytest.mark.parametrize(("text", "finite"), CASES)
def test_matches_node(text: str, finite: bool) -> None:
    assert js_date_parse_finite(text) is finite


@pytest.mark.parametrize(("text", "why"), KNOWN_DIFFERENCES)
def test_known_difference_errs_towards_nan(text: str, why: str) -> None:
    assert js_date_parse_finite(text) is False, f"Node parses {text!r} ({why}); the grammar should say NaN"


def test_tables_are_what_the_brief_promises() -> None:
    assert len(CASES) >= 60 and len({text for text, _ in CASES}) == len(CASES)
    assert sum(finite for _, finite in CASES) > 30 and sum(not finite for _, finite in CASES) > 30


def test_reader_re_exports_the_same_function() -> None:
    assert reader.js_date_parse_finite is js_date_parse_finite


_PIECES = ["0", "1", "01", "12", "13", "24", "31", "32", "59", "60", "99", "100", "2026", "275760", "275761",
           "Jan", "January", "sept", "Mai", "Thu", "Foo", "GMT", "UTC", "Z", "EST", "PDT", "CET", "AM", "PM", "T",
           " ", "-", "/", ".", ",", ":", "+", "(", ")", "10:00", "10:00:00.123", "24:00", "+0100", "-05:00",
           "2026-01-01", "2026-01-01T00:00:00Z", "23:60", "25:00", "12:30 PM", "+2400"]
_SEEDS = [text for text, finite in CASES if finite] + [text for text, _ in KNOWN_DIFFERENCES]


def _sample(count: int) -> list[str]:
    """Date-like strings: random joins of pieces, and accepted strings with a character or two changed."""
    rnd = random.Random(20260101)
    texts: set[str] = set()
    while len(texts) < count:
        if rnd.random() < 0.5:
            texts.add(rnd.choice(["", " "]).join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 6))))
            continue
        text = rnd.choice(_SEEDS)
        for _ in range(rnd.randint(1, 2)):
            at = rnd.randrange(len(text) + 1)
            if at < len(text) and text[at].isdigit():  # a digit for a digit: values just out of range
                text = text[:at] + rnd.choice("0123456789") + text[at + 1:]
            else:
                piece = rnd.choice(["", rnd.choice("0123456789 -/.:,+TZAPM()")])
                text = text[:at] + piece + text[at + rnd.randint(0, 1):]
        texts.add(text)
    return sorted(texts)


def _node_verdicts(texts: list[str]) -> list[bool]:
    script = ("const a = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(a.map(s => Number.isFinite(Date.parse(s)))))")
    proc = subprocess.run(["node", "-e", script], input=json.dumps(texts), capture_output=True, text=True,
                          env={**os.environ, "TZ": "Etc/UTC"}, check=True, timeout=60)
    verdicts: list[bool] = json.loads(proc.stdout)
    return verdicts


def _node_major() -> int | None:
    if shutil.which("node") is None:
        return None
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout
    return int(version.strip().lstrip("v").split(".")[0]) if version.startswith("v") else None


@pytest.mark.skipif(_node_major() != 20, reason="needs Node v20 on the PATH, the Node the verdicts came from")
def test_tables_and_a_sample_still_agree_with_node() -> None:
    sample = _sample(3000)
    texts = [text for text, _ in CASES] + [text for text, _ in KNOWN_DIFFERENCES] + sample
    node = dict(zip(texts, _node_verdicts(texts), strict=True))
    assert [text for text, finite in CASES if node[text] is not finite] == []
    assert [text for text, _ in KNOWN_DIFFERENCES if not node[text]] == []
    wrongly_kept = [text for text in sample if js_date_parse_finite(text) and not node[text]]
    assert wrongly_kept == [], "the grammar calls these finite, Node NaN"
    assert sum(node[text] and js_date_parse_finite(text) for text in sample) > 300  # the sample is not all junk
