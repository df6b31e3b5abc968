"""The lane adapter protocol, version 1: one JSON request on stdin, one JSON result on stdout.

Why a process protocol and not a Python API: the consumers users run are written in TypeScript, Python,
shell, Go. A JSON document on each side is the one interface all of them can implement in a few lines,
and a separate process is the one boundary a hard kill timeout can enforce (a hung SDK has no timeout of
its own). Standard library only: this module runs inside the per-version containers.

Both documents carry ``protocol`` (:data:`PROTOCOL_VERSION`); a reader refuses any other number, so a
changed meaning can never be read silently. The result parser is strict on purpose: a result with an
unknown key (``final_txt``), a wrong type or a self-contradiction (``ok`` without an answer) is not a
result, and the runner turns it into a ``crash`` whose one-line reason names the key. A lane author then
reads *why* in the report instead of getting a pass built on a typo. Lane-specific data goes in
``extra``, which is never interpreted.

How a run ended (:data:`OUTCOMES`), from the lane's user's point of view:

* ``ok`` — the lane returned an answer (non-empty ``final_text``) and no error;
* ``exit-nonzero`` — the lane reported a failure cleanly: codex exited non-zero, the turn failed
  (``turn.failed``), or the lane refused to start a build it cannot drive truthfully; ``error`` says which;
* ``silent-empty`` — the lane reported success with no answer (the failure users find last);
* ``hang`` — no result within the timeout (the runner classifies this when it has to kill the adapter;
  an adapter that stops waiting on its own may report it, with the events it saw until then);
* ``crash`` — the lane itself broke: an uncaught exception (e.g. a JSON parse error on a stdout line), a
  signal, no result or a malformed one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PROTOCOL_VERSION = 1

Outcome = Literal["ok", "exit-nonzero", "silent-empty", "hang", "crash"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "exit-nonzero", "silent-empty", "hang", "crash")
#: Outcomes that must say what went wrong in ``error``.
_NEEDS_ERROR: frozenset[str] = frozenset({"exit-nonzero", "hang", "crash"})
#: Longest ``error`` kept (a lane may paste a whole stderr into it; the report wants the gist).
MAX_ERROR_CHARS = 4000


class ProtocolError(ValueError):
    """A request or result that does not follow the protocol; ``str()`` is one line naming the problem."""


@dataclass(frozen=True)
class AdapterRequest:
    """What a lane gets on stdin.

    ``codex_home`` is prepared by the caller (config.toml pointing at the fake, auth.json for the
    credential setup); ``home`` is the HOME the lane must give codex. ``env`` holds the credential
    variables (``CODEX_API_KEY`` …) the lane must hand to codex, nothing else. ``policy`` is the
    completion policy (``ephemeral``/``persistent``) for lanes that have one; others ignore it.
    ``base_url`` is the fake Responses API's base (codex POSTs ``{base_url}/responses``), for lanes that
    take a base URL themselves (the SDK's ``baseUrl``). ``timeout_s`` is the lane's own budget: the
    runner's hard kill comes a grace period later. ``options`` are lane-specific (e.g. the SDK's mode).
    """

    prompt: str
    cwd: str
    codex_path: str
    codex_home: str
    home: str
    base_url: str
    timeout_s: float
    policy: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL_VERSION, "prompt": self.prompt, "cwd": self.cwd, "codex_path": self.codex_path,
            "codex_home": self.codex_home, "home": self.home, "base_url": self.base_url,
            "timeout_s": self.timeout_s, "policy": self.policy, "env": dict(self.env), "options": dict(self.options),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: Any) -> AdapterRequest:
        """Strict: every key known, every type right; raises :class:`ProtocolError` with one line."""
        doc = _object(data, "request")
        _check_keys(doc, _REQUEST_KEYS, _REQUEST_REQUIRED, "request")
        _check_protocol(doc, "request")
        env = _object(doc.get("env", {}), "request key 'env'")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise ProtocolError("request key 'env' must map names to strings")
        return cls(
            prompt=_str(doc, "prompt"), cwd=_str(doc, "cwd"), codex_path=_str(doc, "codex_path"),
            codex_home=_str(doc, "codex_home"), home=_str(doc, "home"), base_url=_str(doc, "base_url"),
            timeout_s=_positive(doc, "timeout_s"), policy=_opt_str(doc, "policy"), env=env,
            options=_object(doc.get("options", {}), "request key 'options'"),
        )

    @classmethod
    def loads(cls, text: str | bytes) -> AdapterRequest:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProtocolError(f"request is not JSON: {exc}") from None
        return cls.from_json(data)


@dataclass(frozen=True)
class AdapterResult:
    """What a lane prints on stdout, plus what the runner saw of the adapter process.

    ``events`` are the raw codex event types in the order the lane saw them (``thread.started``,
    ``item.completed`` …), not a normalized vocabulary: the point is to show what each consumer
    received. ``transcript`` is None for a lane that projects no rows (the SDK), a list otherwise.
    ``adapter_exit_code``, ``adapter_stderr`` and ``wall_s`` are filled by the runner, never parsed.
    """

    lane: str
    outcome: Outcome
    events: tuple[str, ...] = ()
    thread_id: str | None = None
    final_text: str | None = None
    usage: Mapping[str, int] | None = None
    exit_code: int | None = None
    error: str | None = None
    transcript: tuple[Mapping[str, Any], ...] | None = None
    stderr: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    adapter_exit_code: int | None = None
    adapter_stderr: str = ""
    wall_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire document (what an adapter prints); the runner's fields are not part of it."""
        return {
            "protocol": PROTOCOL_VERSION, "lane": self.lane, "outcome": self.outcome, "events": list(self.events),
            "thread_id": self.thread_id, "final_text": self.final_text,
            "usage": dict(self.usage) if self.usage is not None else None, "exit_code": self.exit_code,
            "error": self.error,
            "transcript": [dict(row) for row in self.transcript] if self.transcript is not None else None,
            "stderr": self.stderr, "extra": dict(self.extra),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)

    def describe(self) -> str:
        """One line for a grid cell's tooltip or a failure message, e.g. ``exit-nonzero: exit 1: …``."""
        if self.outcome == "ok":
            return f"ok: {self.final_text!r}"
        detail = self.error or ("no answer, no error" if self.outcome == "silent-empty" else "")
        return f"{self.outcome}: {first_line(detail)}" if detail else self.outcome


_REQUEST_REQUIRED = ("protocol", "prompt", "cwd", "codex_path", "codex_home", "home", "base_url", "timeout_s")
_REQUEST_KEYS = (*_REQUEST_REQUIRED, "policy", "env", "options")
_RESULT_REQUIRED = ("protocol", "lane", "outcome", "events")
_RESULT_KEYS = (*_RESULT_REQUIRED, "thread_id", "final_text", "usage", "exit_code", "error", "transcript",
                "stderr", "extra")


def first_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of ``text``, cut to ``limit`` characters (for one-line messages)."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} must be a JSON object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _check_keys(doc: Mapping[str, Any], known: tuple[str, ...], required: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(doc) - set(known))
    if unknown:
        raise ProtocolError(f"{what} has unknown key {unknown[0]!r} (known: {', '.join(known)}; "
                            "put lane-specific data in 'extra')" if what == "result" else
                            f"{what} has unknown key {unknown[0]!r} (known: {', '.join(known)})")
    missing = [k for k in required if k not in doc]
    if missing:
        raise ProtocolError(f"{what} lacks required key {missing[0]!r}")


def _check_protocol(doc: Mapping[str, Any], what: str) -> None:
    version = doc.get("protocol")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ProtocolError(f"{what} speaks protocol {version!r}; this reader speaks {PROTOCOL_VERSION}")


def _str(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"key {key!r} must be a string, got {_kind(value)}")
    return value


def _opt_str(doc: Mapping[str, Any], key: str) -> str | None:
    return None if doc.get(key) is None else _str(doc, key)


def _opt_int(doc: Mapping[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise ProtocolError(f"key {key!r} must be an integer or null, got {_kind(value)}")
    return value


def _positive(doc: Mapping[str, Any], key: str) -> float:
    value: Any = doc.get(key)
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        raise ProtocolError(f"key {key!r} must be a positive number of seconds, got {value!r}")
    return float(value)


def _usage(value: Any) -> dict[str, int] | None:
    if value is None:
        return None
    doc = _object(value, "result key 'usage'")
    for name, count in doc.items():
        if type(count) is not int or count < 0:
            raise ProtocolError(f"usage {name!r} must be a non-negative integer, got {count!r}")
    return doc


def _transcript(value: Any) -> tuple[dict[str, Any], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ProtocolError("result key 'transcript' must be null or an array of objects")
    return tuple(value)


def result_from_json(data: Any) -> AdapterResult:
    """Strictly parse a result document; raises :class:`ProtocolError` (one line) on any deviation."""
    doc = _object(data, "result")
    _check_keys(doc, _RESULT_KEYS, _RESULT_REQUIRED, "result")
    _check_protocol(doc, "result")
    lane = _str(doc, "lane")
    if not lane.strip():
        raise ProtocolError("key 'lane' must name the lane, e.g. 'codex-sdk@0.163.0'")
    outcome = doc["outcome"]
    if outcome not in OUTCOMES:
        raise ProtocolError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    events = doc["events"]
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ProtocolError("key 'events' must be an array of codex event types (strings)")
    final_text = _opt_str(doc, "final_text")
    error = _opt_str(doc, "error")
    if outcome == "ok" and not (final_text or "").strip():
        raise ProtocolError("outcome 'ok' without a final_text: a run that answered nothing is 'silent-empty'")
    if outcome == "ok" and error:
        raise ProtocolError(f"outcome 'ok' with an error ({first_line(error, 120)}): pick the outcome that failed")
    if outcome in _NEEDS_ERROR and not (error or "").strip():
        raise ProtocolError(f"outcome {outcome!r} needs an 'error' saying what went wrong")
    if error is not None and len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + "…"
    return AdapterResult(
        lane=lane, outcome=outcome, events=tuple(events), thread_id=_opt_str(doc, "thread_id"),
        final_text=final_text, usage=_usage(doc.get("usage")), exit_code=_opt_int(doc, "exit_code"), error=error,
        transcript=_transcript(doc.get("transcript")), stderr=_opt_str(doc, "stderr"),
        extra=_object(doc.get("extra", {}), "result key 'extra'"),
    )


def parse_result(stdout: str | bytes) -> AdapterResult:
    """The adapter's whole stdout as one result: exactly one JSON object, surrounding whitespace allowed.

    Anything else on stdout (a progress line, a second document) is a protocol error: adapters print
    diagnostics on stderr, so stdout can be read without guessing which line is the result.
    """
    text = stdout.decode("utf-8", errors="replace") if isinstance(stdout, bytes) else stdout
    if not text.strip():
        raise ProtocolError("printed no result on stdout")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1:
            raise ProtocolError(f"stdout is not one JSON document ({len(lines)} lines; diagnostics belong on "
                                f"stderr): {exc.msg} at line {exc.lineno}") from None
        raise ProtocolError(f"stdout is not JSON ({exc.msg}): {first_line(text, 120)!r}") from None
    return result_from_json(data)


def crash(lane: str, reason: str, **kw: Any) -> AdapterResult:
    """A ``crash`` result built by the runner (no result, a malformed one, a signal)."""
    return AdapterResult(lane=lane, outcome="crash", error=reason, **kw)
