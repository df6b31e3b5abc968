"""A strict transcript reader applying the rules real transcript readers apply, and counting drops.

Real readers (Claude Code's own, and tools built on its JSONL) skip what they cannot use rather than
fail, which is exactly how a projection bug goes unnoticed: a row silently vanishes. This reader applies
the same rules but reports every dropped row with its line number and the rule that dropped it, so the
contract can demand zero drops.

Rules, checked in this order for every non-blank line:

1. the line is JSON as ``JSON.parse`` reads it: a UTF-8 BOM makes it not JSON (a BOM-prefixed line
   is dropped and also listed in ``bom_lines``), and so do ``NaN``/``Infinity``, which Python's
   parser would otherwise accept;
2. the value is an object;
3. ``type`` is a known row type;
4. ``uuid`` is a non-empty string;
5. ``timestamp`` is a string that parses as ISO-8601;
6. ``user`` and ``assistant`` rows have a ``message`` object.

Bytes are decoded as UTF-8 with replacement, as readers that read files as text do. A last line without
a trailing newline (a writer cut off mid-row, or one still writing) is reported as
``partial_trailing_line`` and judged by the same rules: complete JSON is kept, a torn row is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KNOWN_TYPES = frozenset({"user", "assistant", "system", "summary"})
MESSAGE_TYPES = frozenset({"user", "assistant"})


@dataclass(frozen=True)
class ReadResult:
    """Kept rows in file order; dropped rows as (1-based line number, reason)."""

    kept: list[dict[str, Any]]
    dropped: list[tuple[int, str]]
    bom_lines: list[int] = field(default_factory=list)
    partial_trailing_line: bool = False


def _parseable_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_row(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(row, None) if ``text`` is a row the rules keep, else (None, reason)."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        if text.startswith("\ufeff"):
            return None, "not JSON: line starts with a UTF-8 byte order mark"
        return None, f"not JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"not a JSON object: {type(value).__name__}"
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:
        return None, f"unknown type {kind!r}"
    if not isinstance(value.get("uuid"), str) or not value["uuid"]:
        return None, "missing uuid"
    if not _parseable_timestamp(value.get("timestamp")):
        return None, f"timestamp missing or not ISO-8601: {value.get('timestamp')!r}"
    if kind in MESSAGE_TYPES and not isinstance(value.get("message"), dict):
        return None, f"{kind} row without a message object"
    return value, None


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
        line = line.removesuffix("\r")
        if line.startswith("\ufeff"):
            bom_lines.append(number)
        if not line.strip():
            continue
        row, reason = check_row(line)
        if row is not None:
            kept.append(row)
        else:
            if partial and number == len(lines):
                reason = f"partial trailing line (no newline): {reason}"
            dropped.append((number, str(reason)))
    return ReadResult(kept=kept, dropped=dropped, bom_lines=bom_lines,
                      partial_trailing_line=partial and bool(lines[-1].strip()))
