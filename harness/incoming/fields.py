"""The field types every file from elsewhere is read with, and the one-line error a bad one gives.

A shard, a bundle or a log line was written by another machine, another version, or someone with an
editor, so every value is checked against what the code will do with it: versions through the one
version type (:func:`harness.npmversion.parse_version`, no surrounding whitespace), credentials,
policies, sandboxes, scenarios, statuses and outcomes through their registries, strings bounded and
(for names) free of control characters, numbers finite, timestamps timezone-aware. Free-form parts
(a resolver decision, a fingerprint's extra keys) pass :func:`json_tree`: bounded depth, size and
finite numbers. :func:`load_json` reads a bounded file and refuses ``NaN``/``Infinity``;
:func:`one_line` turns a pydantic error into ``FILE: FIELD: problem: fix``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from harness.errors import UserError
from harness.lanes.catalog import LaneNameError, parse_lane
from harness.matrix.schema import CREDENTIALS, EXPECTS, POLICIES, SANDBOXES, SCENARIOS
from harness.npmversion import parse_version
from harness.results import STATUSES
from harness.suite.protocol import OUTCOMES

#: A file from elsewhere larger than this is not one codex-matrix wrote (the default matrix's
#: results.json is a few MB; a bundle with every artifact capped is tens of MB at most).
MAX_FILE_BYTES = 256 << 20
#: Lengths: names (ids, test names, slugs) and free text (messages, outputs).
NAME_CHARS = 300
TEXT_CHARS = 4_000_000
#: Free-form JSON: how deep and how wide, so a hostile file cannot make a report or a reader explode.
MAX_DEPTH = 12
MAX_ITEMS = 100_000
_PATH_CHARS = 100
#: An error about a file from elsewhere, without the CLI's ``codex-matrix: error: `` prefix.
LINE_CHARS = 270
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Shapes of files from elsewhere: frozen, and keys a newer writer added are dropped unread.

    results.json promises "keys never renamed, only added", so an unknown key is ignored rather than
    refused; it is never used either, because readers return what the model holds, not the raw file.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _no_controls(value: str) -> str:
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise ValueError("holds a control character (a newline, an escape): write a plain name")
    return value


def _version(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a version string such as 0.117.0")
    if value != value.strip():
        raise ValueError("has spaces or a newline around the version: write it as X.Y.Z, e.g. 0.117.0")
    return parse_version(value)


def _member(allowed: tuple[str, ...], what: str) -> Callable[[Any], Any]:
    known = _clip(", ".join(allowed), 60)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"unknown {what} (known: {known})")
        return value
    return check


def _finite(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("has no timezone: write it as ISO 8601 with an offset, e.g. 2026-01-01T00:00:00+00:00")
    return value


def _aware_text(value: str) -> str:
    """An ISO 8601 timestamp kept as written (a bundle's ``created``), checked to be one with a timezone."""
    if value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("is not an ISO 8601 timestamp, e.g. 2026-01-01T00:00:00+00:00") from None
        _aware(parsed)
    return value


def json_tree(value: Any, depth: int = 0) -> Any:
    """``value`` when it is plain JSON of bounded depth and size with finite numbers; ValueError otherwise."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("holds a number that is not finite")
    if isinstance(value, str) and len(value) > TEXT_CHARS:
        raise ValueError(f"holds a string longer than {TEXT_CHARS} characters")
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"holds more than {MAX_ITEMS} keys")
        for v in value.values():
            json_tree(v, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"holds more than {MAX_ITEMS} items")
        for v in value:
            json_tree(v, depth + 1)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError("is not JSON")
    return value


def _lane(value: Any) -> str:
    """A lane name as a cell stores it (``python``, ``codex-sdk@0.163.0:documented``)."""
    if not isinstance(value, str) or len(value) > NAME_CHARS:
        raise ValueError("must be a lane name such as python or codex-sdk@0.163.0:documented")
    try:
        return parse_lane(value).full
    except LaneNameError as exc:
        raise ValueError(str(exc)) from None


Version = Annotated[str, BeforeValidator(_version)]
LaneName = Annotated[str, BeforeValidator(_lane)]
Credential = Annotated[str, BeforeValidator(_member(CREDENTIALS, "credential setup"))]
PolicyName = Annotated[str, BeforeValidator(_member(POLICIES, "policy"))]
Sandbox = Annotated[str, BeforeValidator(_member(SANDBOXES, "sandbox mode"))]
Scenario = Annotated[str, BeforeValidator(_member(SCENARIOS, "scenario"))]
Expect = Annotated[str, BeforeValidator(_member(EXPECTS, "expectation"))]
Status = Annotated[str, BeforeValidator(_member(STATUSES, "status"))]
Outcome = Annotated[str, BeforeValidator(_member(OUTCOMES, "test outcome"))]
Name = Annotated[str, Field(strict=True, max_length=NAME_CHARS), AfterValidator(_no_controls)]
Text = Annotated[str, Field(strict=True, max_length=TEXT_CHARS)]
Seconds = Annotated[float, BeforeValidator(_finite), Field(ge=0, le=10 * 365 * 86400)]
Count = Annotated[int, Field(strict=True, ge=0, le=1 << 53)]
Flag = Annotated[bool, Field(strict=True)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]
TimestampText = Annotated[str, Field(strict=True, max_length=40), AfterValidator(_aware_text)]
Tree = Annotated[Any, AfterValidator(json_tree)]
Unfinished = Literal["interrupted", "timeout", "died"]


# -- reading ----------------------------------------------------------------------------------------------


def shown(path: Path) -> str:
    """A path as an error line shows it: its tail when long, so the line stays short."""
    text = str(path)
    return text if len(text) <= _PATH_CHARS else "…" + text[-(_PATH_CHARS - 1):]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(path: Path, *, what: str, fix: str) -> Any:
    """The JSON in ``path`` (a regular file of at most :data:`MAX_FILE_BYTES`); else a one-line UserError."""
    data = read_bounded(path, what=what, fix=fix)
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise UserError(f"{shown(path)} is not UTF-8 text: {fix}") from None
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{shown(path)} is not valid JSON ({_clip(str(exc), 80)}): {fix}") from None


def loads_line(text: str) -> Any:
    """One JSON Lines record, with ``NaN``/``Infinity`` refused (ValueError)."""
    return json.loads(text, parse_constant=_no_constant)


def read_bounded(path: Path, *, what: str, fix: str) -> bytes:
    try:
        if not path.is_file():
            kind = "does not exist" if not path.exists() else "is not a regular file"
            raise UserError(f"{shown(path)} {kind}: pass {what}")
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {shown(path)} ({exc.strerror or type(exc).__name__}): {fix}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"{shown(path)} is larger than {MAX_FILE_BYTES >> 20} MB: {fix}")
    return data


def field_of(loc: tuple[int | str, ...]) -> str:
    """pydantic's location as a reader names a field: ``cells[3].lane_s.ok``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = _clip(str(part), 40)
            out += f".{name}" if out else name
    return out or "(top level)"


def one_line(exc: ValidationError, path: Path, fix: str, where: str = "") -> UserError:
    """The first problem of ``exc`` as ``FILE[ where]: FIELD: problem (got VALUE): fix``, always under
    :data:`LINE_CHARS` (the problem is cut to fit: a hostile file must not make a long line)."""
    err = exc.errors(include_url=False)[0]
    msg = " ".join(str(err.get("msg", "invalid")).removeprefix("Value error, ").split())
    loc = tuple(err.get("loc", ()))
    field = f"{_clip(field_of(loc), 60)}: " if loc else ""  # a check across fields names them in its message
    got = err.get("input")
    shown_input = "" if isinstance(got, dict | list) else f" (got {_clip(repr(got), 30)})"
    head = f"{shown(path)}{where}: {field}"
    room = LINE_CHARS - len(head) - len(shown_input) - len(fix) - 2
    return UserError(f"{head}{_clip(msg, max(room, 40))}{shown_input}: {fix}")


def validate(model: type[M], data: Any, path: Path, fix: str, where: str = "") -> M:
    """``model`` of ``data``; any problem is one line naming the file and the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise one_line(exc, path, fix, where) from None
    except RecursionError:
        raise UserError(f"{shown(path)}{where}: nests too deep: {fix}") from None


def read_lines(path: Path, *, fix: str) -> list[tuple[int, Any]]:
    """(line number, JSON value) of every whole line; [] when the file does not exist.

    The last line is ignored when it has no newline (torn by a kill); any other line that is not UTF-8
    JSON is a UserError naming the file and the line, whose fix is ``fix``.
    """
    if not path.exists():
        return []
    data = read_bounded(path, what="a log written by codex-matrix", fix=fix)
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: empty, or a torn line
    out: list[tuple[int, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{shown(path)} line {number} is not UTF-8 text: {fix}") from None
        try:
            out.append((number, loads_line(text)))
        except (ValueError, RecursionError):
            raise UserError(f"{shown(path)} line {number} is not a JSON record: {fix}") from None
    return out
