"""Raw ``codex exec --json`` output → normalized events, for every stream shape codex ever printed.

The mapper is deliberately total: whatever bytes a build (or a broken pipe) produces, it returns
events and never raises. Three rules keep that honest rather than lossy:

* Anything that is not an event becomes a ``warning`` with source ``process`` (non-JSON stdout lines,
  every stderr line, retry notices, non-fatal ``error`` items). The one exception is the 0.117/0.118
  ephemeral backfill line (``thread/read failed while backfilling turn items … ephemeral threads do
  not support includeTurns``): it says the *history* could not be read back, so its source is
  ``history`` — the Phase 0 sign-off attributes it the same way.
* Anything that is an event of a type the mapper does not know becomes ``unsupported_raw_event`` with
  the raw object attached: new codex releases add types, and dropping them would hide exactly the
  drift this project exists to find.
* The stream protocol is detected from the stream itself, not from the version, and legacy streams
  (≤0.42: config preamble, ``{"prompt"}``, ``{"id","msg"}`` lines; 0.42's draft ``session.created`` /
  ``item_type`` format) are mapped minimally and reported as ``legacy``: they have no ``turn.*``
  events, so nothing downstream may treat their status or usage as authoritative.

Usage in ``turn.completed`` is cumulative for the turn (two requests of 11 input tokens report 22), so
each ``usage_updated`` carries a full total that *replaces* the previous one. Legacy flat
``token_count`` messages (0.20–0.29) are per request, so the mapper sums them itself and still emits
running totals; nested ``token_count.info.total_token_usage`` (0.34–0.42) is already a total.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.lane.events import NormalizedEvent, Protocol, WarningSource
from harness.lane.retries import supersede_retried

#: stderr lines with this text are about history read-back, not the process (see module docstring).
_HISTORY_STDERR = re.compile(r"thread/read failed while backfilling turn items|ephemeral threads do not support")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Keys of the legacy config-summary preamble (a HashMap, so their order is random).
_PREAMBLE_KEYS = frozenset({"model", "provider", "sandbox", "approval", "workdir", "reasoning effort"})
_MODERN_TYPES = frozenset(
    {"thread.started", "turn.started", "turn.completed", "turn.failed", "item.started", "item.updated",
     "item.completed"}
)
_ITEM_EVENTS = ("item.started", "item.updated", "item.completed")
_TOOL_KINDS = frozenset({"command_execution", "file_change", "mcp_tool_call", "web_search", "todo_list",
                         "collab_tool_call"})
#: Longest warning text kept verbatim; a runaway line is cut, and the cut says so.
MAX_WARNING_CHARS = 4000
LEGACY_NOTICE = (
    "legacy codex exec --json stream (codex <= 0.42): no turn.completed/turn.failed events, so thread "
    "status rests on the exit code and usage is not authoritative"
)


@dataclass(frozen=True)
class MappedStream:
    """Events in stream order (stdout first, then stderr warnings) and the protocol the stream showed."""

    events: tuple[NormalizedEvent, ...]
    protocol: Protocol


def _clip(text: str) -> str:
    if len(text) <= MAX_WARNING_CHARS:
        return text
    return text[:MAX_WARNING_CHARS] + f"… [{len(text) - MAX_WARNING_CHARS} more chars cut]"


def warning(text: str, *, source: WarningSource = "process", origin: str) -> NormalizedEvent:
    """A warning event; ``origin`` says which rule produced it (stderr, stdout, error-event, …)."""
    return NormalizedEvent("warning", {"source": source, "text": _clip(text), "origin": origin})


def _unsupported(raw_type: str, payload: Any) -> NormalizedEvent:
    return NormalizedEvent("unsupported_raw_event", {"raw_type": raw_type, "payload": payload})


def _text(value: Any) -> str:
    """A string field as text; non-strings are rendered as JSON so nothing is silently blanked."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return "<unrenderable value>"


def _command(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return shlex.join(value)
    return _text(value)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type_name(value: Any) -> str:
    return value if isinstance(value, str) else f"<non-string type {_text(value)}>"


# -- splitting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    partial: bool  # last line without a trailing newline


def _split(data: bytes) -> Iterator[_Line]:
    """Lines decoded one by one with replacement, so one bad byte can't spoil its neighbours."""
    raw_lines = data.split(b"\n")
    last = len(raw_lines) - 1
    for index, raw in enumerate(raw_lines):
        if index == last and raw == b"":
            return
        text = raw.removesuffix(b"\r").decode("utf-8", errors="replace")
        if index == 0:
            text = text.removeprefix("\ufeff")
        yield _Line(index + 1, text, index == last)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float | str:
    """``1e400`` is valid JSON but overflows to inf, which no JSON writer may emit: keep the digits."""
    value = float(text)
    return value if math.isfinite(value) else text


def loads_strict(text: str) -> Any:
    """``json.loads`` as ``JSON.parse`` reads: no NaN/Infinity literals, no infinite floats."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)


def _parse(line: _Line) -> tuple[dict[str, Any] | None, NormalizedEvent | None]:
    """(object, None) for a JSON object line; (None, warning) otherwise; (None, None) for blank lines."""
    if not line.text.strip():
        return None, None
    try:
        value = loads_strict(line.text)
    except (ValueError, RecursionError):
        what = "partial trailing stdout line (no newline, not complete JSON)" if line.partial else (
            "non-JSON stdout line"
        )
        return None, warning(f"{what} {line.number}: {line.text}", origin="stdout")
    if not isinstance(value, dict):
        return None, warning(f"stdout line {line.number} is JSON but not an object: {line.text}", origin="stdout")
    return value, None


def json_objects(data: bytes) -> Iterator[dict[str, Any]]:
    """The JSON objects of codex's stdout in order, read exactly as the mapper reads them (other lines skipped)."""
    for line in _split(data):
        obj, _ = _parse(line)
        if obj is not None:
            yield obj


# -- protocol detection ----------------------------------------------------------------------------


def _shape(obj: Mapping[str, Any]) -> Protocol | None:
    """What one object says about the protocol; None when it says nothing decisive."""
    kind = obj.get("type")
    if "msg" in obj and "id" in obj and isinstance(obj.get("msg"), dict):
        return "legacy"
    if kind is None:
        if set(obj) == {"prompt"} or (obj and set(obj) <= _PREAMBLE_KEYS):
            return "legacy"
        return None
    if kind == "session.created":
        return "legacy"
    if kind in _ITEM_EVENTS and isinstance(obj.get("item"), dict):
        item = obj["item"]
        if "item_type" in item and "type" not in item:
            return "legacy"
    if isinstance(kind, str) and kind in _MODERN_TYPES:
        return "thread-events"
    return None


def detect_protocol(objects: list[dict[str, Any]]) -> Protocol:
    """The first decisive line wins: a build prints one protocol per process."""
    for obj in objects:
        shape = _shape(obj)
        if shape is not None:
            return shape
    return "unknown"


# -- thread-events mapping (0.44+, also 0.42's draft format) ---------------------------------------


def usage_fields(raw: Any) -> dict[str, int] | None:
    """codex usage object → event fields; None when the object lacks the input/output counts."""
    if not isinstance(raw, Mapping):
        return None
    input_tokens = _int_or_none(raw.get("input_tokens"))
    output_tokens = _int_or_none(raw.get("output_tokens"))
    if input_tokens is None or output_tokens is None:
        return None
    fields = {"input": input_tokens, "cached": _int_or_none(raw.get("cached_input_tokens")) or 0,
              "output": output_tokens}
    for key, name in (("reasoning_output_tokens", "reasoning"), ("cache_write_input_tokens", "cache_write")):
        value = _int_or_none(raw.get(key))
        if value is not None:
            fields[name] = value
    return fields


#: The warning origin of a tool codex started and never reported finished (see :func:`unreported_tools`).
UNREPORTED_ORIGIN = "tool-completion-missing"
#: What the projection answers such a tool with: the outcome is unknown, and why.
UNREPORTED_RESULT = ("outcome unknown: codex printed item.started for this {kind} but never its "
                     "item.completed, although the turn ended ({turn})")


class _ItemMapper:
    """Item events → normalized events; remembers started tools so a completion always has a start."""

    def __init__(self) -> None:
        self.started: set[str] = set()
        self.completed: set[str] = set()
        self.commands: dict[str, tuple[str, str]] = {}  # item id → (kind, command) of every started tool

    def map(self, event_type: str, obj: dict[str, Any]) -> list[NormalizedEvent]:
        item = obj.get("item")
        if not isinstance(item, dict):
            return [_unsupported(event_type, obj)]
        item_type = item.get("type", item.get("item_type"))
        item_id = _text(item.get("id")) or f"{event_type}@anon"
        if item_type in ("agent_message", "assistant_message"):
            if event_type != "item.completed":
                return []  # text is final only on completion
            return [NormalizedEvent("assistant_text", {"item_id": item_id, "text": _text(item.get("text"))})]
        if item_type == "reasoning":
            if event_type != "item.completed":
                return []
            return [NormalizedEvent("reasoning", {"item_id": item_id, "text": _text(item.get("text"))})]
        if item_type == "error":
            if event_type != "item.completed":
                return []
            return [warning(_text(item.get("message")), origin="error-item")]
        if isinstance(item_type, str) and item_type in _TOOL_KINDS:
            return self._tool(event_type, item_id, str(item_type), item)
        return [_unsupported(f"{event_type}:{_type_name(item_type)}", obj)]

    def _tool(self, event_type: str, item_id: str, kind: str, item: dict[str, Any]) -> list[NormalizedEvent]:
        if event_type == "item.updated":
            return []  # progress of a known tool; the completion carries the final state
        command, tool_input = _tool_call(kind, item)
        events: list[NormalizedEvent] = []
        if item_id not in self.started:
            self.started.add(item_id)
            self.commands[item_id] = (kind, command)
            events.append(NormalizedEvent(
                "tool_started", {"item_id": item_id, "kind": kind, "command": command, "input": tool_input}
            ))
        if event_type == "item.completed":
            self.completed.add(item_id)
            events.append(NormalizedEvent("tool_completed", {
                "item_id": item_id, "kind": kind, "command": command, "output": _tool_output(kind, item),
                "exit_code": _int_or_none(item.get("exit_code")), "status": _text(item.get("status")) or None,
            }))
        return events


def _tool_call(kind: str, item: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(one-line description, tool_use input) per item kind."""
    if kind == "command_execution":
        command = _command(item.get("command"))
        return command, {"command": command}
    if kind == "file_change":
        changes = _list(item.get("changes"))
        parts = [f"{_text(c.get('kind'))} {_text(c.get('path'))}" for c in changes if isinstance(c, Mapping)]
        return "; ".join(parts), {"changes": changes}
    if kind == "mcp_tool_call":
        arguments = item.get("arguments")
        return f"{_text(item.get('server'))}/{_text(item.get('tool'))}", {
            "arguments": arguments if arguments is not None else {}}
    if kind == "web_search":
        return _text(item.get("query")), {"query": _text(item.get("query"))}
    if kind == "todo_list":
        return "update_plan", {"items": _list(item.get("items"))}
    return _text(item.get("tool")), {"prompt": _text(item.get("prompt")),
                                      "receiver_thread_ids": item.get("receiver_thread_ids")}


def _tool_output(kind: str, item: Mapping[str, Any]) -> str:
    if kind == "command_execution":
        return _text(item.get("aggregated_output"))
    if kind == "mcp_tool_call":
        error = item.get("error")
        if isinstance(error, Mapping) and error.get("message") is not None:
            return _text(error.get("message"))
        result = item.get("result")
        content = result.get("content") if isinstance(result, Mapping) else None
        if isinstance(content, list):
            return "\n".join(_text(c.get("text")) if isinstance(c, Mapping) else _text(c) for c in content)
        return _text(result)
    if kind == "todo_list":
        items = _list(item.get("items"))
        return "\n".join(
            f"[{'x' if isinstance(i, Mapping) and i.get('completed') else ' '}] "
            f"{_text(i.get('text')) if isinstance(i, Mapping) else _text(i)}" for i in items
        )
    if kind == "collab_tool_call":
        return _text(item.get("agents_states"))
    if kind == "file_change":
        return _text(item.get("status"))
    return ""


def _map_modern(obj: dict[str, Any], items: _ItemMapper, legacy_draft: bool) -> list[NormalizedEvent]:
    kind = obj.get("type")
    if kind == "thread.started":
        return [NormalizedEvent("thread_started", {"thread_id": _text(obj.get("thread_id")) or None})]
    if kind == "session.created":  # 0.42 draft name of thread.started
        return [NormalizedEvent("thread_started", {"thread_id": _text(obj.get("session_id")) or None})]
    if kind == "turn.started":
        return [NormalizedEvent("turn_started", {})]
    if kind == "turn.completed":
        events: list[NormalizedEvent] = []
        if "usage" in obj:
            fields = usage_fields(obj["usage"])
            if fields is None:
                events.append(warning(f"turn.completed usage unreadable: {_text(obj['usage'])}", origin="stdout"))
            else:
                events.append(NormalizedEvent("usage_updated", {**fields, "origin": "turn.completed"}))
        events.append(NormalizedEvent("turn_completed", {}))
        return events
    if kind == "turn.failed":
        error = obj.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
        return [NormalizedEvent("turn_failed", {"message": _text(message)})]
    if kind == "error":
        if legacy_draft:  # 0.42's draft format has no turn.failed: its error is the end of the turn
            return [NormalizedEvent("turn_failed", {"message": _text(obj.get("message"))})]
        return [warning(_text(obj.get("message")), origin="error-event")]  # e.g. a retry notice: not the verdict
    if kind in _ITEM_EVENTS:
        return items.map(str(kind), obj)
    return [_unsupported(_type_name(kind) if kind is not None else "<no type>", obj)]


# -- legacy {"id","msg"} mapping (0.20–0.42) -------------------------------------------------------


class _LegacyMapper:
    """``msg`` objects → events; sums per-request flat token counts into running totals."""

    def __init__(self) -> None:
        self.flat_total: dict[str, int] = {}
        self.messages = 0
        self.commands: dict[str, str] = {}

    def map(self, obj: dict[str, Any]) -> list[NormalizedEvent]:
        msg = obj.get("msg")
        if not isinstance(msg, dict):
            if "msg" not in obj and obj and ("prompt" in obj or set(obj) <= _PREAMBLE_KEYS):
                return []  # the preamble and the echoed prompt describe the run; they are not events
            return [_unsupported("<legacy line>", obj)]
        kind = msg.get("type")
        call_id = _text(msg.get("call_id")) or f"legacy_call_{self.messages}"
        self.messages += 1
        if kind == "task_started":
            return [NormalizedEvent("turn_started", {})]
        if kind == "task_complete":  # never printed by exec, but mean the same if a build ever does
            return [NormalizedEvent("turn_completed", {})]
        if kind == "agent_message":
            return [NormalizedEvent("assistant_text", {"item_id": f"legacy_msg_{self.messages}",
                                                       "text": _text(msg.get("message"))})]
        if kind == "agent_reasoning":
            return [NormalizedEvent("reasoning", {"item_id": f"legacy_msg_{self.messages}",
                                                  "text": _text(msg.get("text"))})]
        if kind == "exec_command_begin":
            command = self.commands[call_id] = _command(msg.get("command"))
            return [NormalizedEvent("tool_started", {"item_id": call_id, "kind": "command_execution",
                                                     "command": command, "input": {"command": command}})]
        if kind == "exec_command_end":
            exit_code = _int_or_none(msg.get("exit_code"))
            return [NormalizedEvent("tool_completed", {
                "item_id": call_id, "kind": "command_execution", "command": self.commands.get(call_id, ""),
                "output": _text(msg.get("stdout")) + _text(msg.get("stderr")), "exit_code": exit_code,
                "status": "completed" if exit_code == 0 else "failed"})]
        if kind in ("exec_command_output_delta", "agent_message_delta", "agent_reasoning_delta"):
            return []  # streamed pieces; the *_end / full message carries the same content
        if kind == "patch_apply_begin":
            changes = msg.get("changes")
            paths = sorted(changes) if isinstance(changes, dict) else []
            command = self.commands[call_id] = "; ".join(paths)
            return [NormalizedEvent("tool_started", {"item_id": call_id, "kind": "file_change",
                                                     "command": command, "input": {"changes": changes}})]
        if kind == "patch_apply_end":
            ok = msg.get("success") is True
            return [NormalizedEvent("tool_completed", {
                "item_id": call_id, "kind": "file_change", "command": self.commands.get(call_id, ""),
                "output": _text(msg.get("stdout")) + _text(msg.get("stderr")), "exit_code": None,
                "status": "completed" if ok else "failed"})]
        if kind == "token_count":
            return self._usage(msg)
        if kind == "error":
            return [NormalizedEvent("turn_failed", {"message": _text(msg.get("message"))})]
        if kind in ("background_event", "stream_error"):
            return [warning(_text(msg.get("message")), origin="error-event")]
        return [_unsupported(f"msg:{_type_name(kind)}", obj)]

    def _usage(self, msg: Mapping[str, Any]) -> list[NormalizedEvent]:
        info = msg.get("info")
        if "info" in msg:
            if info is None:
                return []  # 0.42 announces "no usage yet" before the first response
            total = info.get("total_token_usage") if isinstance(info, Mapping) else None
            fields = usage_fields(total)
        else:
            flat = usage_fields(msg)
            if flat is not None:
                for key, value in flat.items():
                    self.flat_total[key] = self.flat_total.get(key, 0) + value
            fields = dict(self.flat_total) if flat is not None else None
        if fields is None:
            return [warning(f"legacy token_count unreadable: {_text(dict(msg))}", origin="stdout")]
        return [NormalizedEvent("usage_updated", {**fields, "origin": "legacy-token_count"})]


# -- entry point -----------------------------------------------------------------------------------


def unreported_tools(items: _ItemMapper, turn_end: str | None) -> list[NormalizedEvent]:
    """A process warning per tool codex started and never reported finished in a turn that ended.

    0.117.0–0.145.0 drop a slow command's ``item.completed`` when the model's answer ends the turn
    first: the command ran (its output reached the model), but the stream never says how it ended.
    A reader must not take the silence for success, nor lose the call: the warning says which event
    is missing, and the projection answers the ``tool_use`` with an error ``tool_result`` that says
    the outcome is unknown. A run cut short (no turn end) is the timeout's story, not this one.
    """
    if turn_end is None:
        return []
    events = []
    for item_id, (kind, command) in items.commands.items():
        if item_id not in items.completed:
            event = warning(f"codex never reported the end of {kind} {item_id} ({command}): no item.completed "
                            f"before {turn_end}; its outcome is unknown", origin=UNREPORTED_ORIGIN)
            event.data.update(item_id=item_id, tool_result=UNREPORTED_RESULT.format(kind=kind, turn=turn_end))
            events.append(event)
    return events


def stderr_warnings(stderr: bytes) -> list[NormalizedEvent]:
    """Every non-blank stderr line as a warning; the ephemeral backfill line is a history warning."""
    events = []
    for line in _split(stderr):
        text = _ANSI.sub("", line.text).rstrip()
        if not text.strip():
            continue
        source: WarningSource = "history" if _HISTORY_STDERR.search(text) else "process"
        events.append(warning(text, source=source, origin="stderr"))
    return events


def map_stream(stdout: bytes, stderr: bytes = b"") -> MappedStream:
    """Map one run's raw output; total (never raises) for any bytes."""
    parsed: list[tuple[dict[str, Any] | None, NormalizedEvent | None]] = [_parse(line) for line in _split(stdout)]
    protocol = detect_protocol([obj for obj, _ in parsed if obj is not None])
    legacy_draft = protocol == "legacy" and any(
        obj is not None and obj.get("type") == "session.created" for obj, _ in parsed
    )
    events: list[NormalizedEvent] = []
    if protocol == "legacy":
        events.append(warning(LEGACY_NOTICE, origin="lane"))
    items, legacy = _ItemMapper(), _LegacyMapper()
    turn_end: str | None = None
    for obj, problem in parsed:
        if problem is not None:
            events.append(problem)
        if obj is None:
            continue
        if protocol == "legacy" and not legacy_draft and "type" not in obj:
            events.extend(legacy.map(obj))
        else:
            events.extend(_map_modern(obj, items, legacy_draft))
            if obj.get("type") in ("turn.completed", "turn.failed"):
                turn_end = str(obj["type"])
    events.extend(unreported_tools(items, turn_end))
    events = supersede_retried(events)
    events.extend(stderr_warnings(stderr))
    return MappedStream(events=tuple(events), protocol=protocol)
