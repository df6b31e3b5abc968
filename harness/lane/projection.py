"""Normalized events + authority → Claude-Code-compatible transcript rows (one dict per JSONL line).

Existing transcript readers must parse the rows unchanged, so the shapes follow what they already
read: an envelope on every row (``uuid``, ``parentUuid`` chaining the rows, ``isSidechain``,
``userType``, ``cwd``, ``sessionId``, ``version``, ``gitBranch``, ``timestamp``, ``type``), ``user`` /
``assistant`` rows with a ``message``, and ``system`` rows with ``subtype``/``level``/``content``.
The lane's own truth rides on ``system`` rows as ``codexNative*`` fields, every one of them on every
system row, so a reader that looks at any single row sees the whole verdict.

Row order: thread status ``running`` → the user prompt → one ``codex_native_warning`` row per warning
(and per unsupported raw event, with the raw event attached, so nothing codex sent disappears) →
assistant rows in stream order (text, thinking, ``tool_use``; each tool's ``tool_result`` as a user row
right after its completion; a tool that never completed still gets an error ``tool_result`` so every
``tool_use`` is answered) → ``codex_native_execution_summary`` → the final thread status.

Retries. An attempt cut short and retried streamed its reply too; that superseded text is not an
assistant row (one answer, one reply), but its retry notice's warning row carries it in
``codexNativeRawEvent`` (:mod:`harness.lane.retries`).

Usage. Codex reports one cumulative total per turn, not per model request, so the whole total goes on
the *last* assistant row and every other assistant row carries zeros: readers that sum per-row usage
then get exactly codex's total, and none double-counts. Anthropic names: ``input_tokens`` = codex
input − cached, ``cache_read_input_tokens`` = cached, ``output_tokens`` = output, so the three add up
to codex's ``input + output``. ``cache_creation_input_tokens`` is 0: whether codex's
``cache_write_input_tokens`` (0.145+) is a part of its input count is not established, and putting it
there could break the sum; the raw codex numbers are kept on the summary row as ``codexNativeUsage``.

Deterministic: the only sources of variation are the injected ``clock`` (one call per row) and
``new_id`` (row uuids, message/request/tool ids).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.lane.authority import Authority
from harness.lane.events import NormalizedEvent, Policy, Usage
from harness.lane.executable import Executable
from harness.lane.mapper import UNREPORTED_ORIGIN
from harness.lane.retries import live

STATUS_SUBTYPE = "codex_native_thread_status"
WARNING_SUBTYPE = "codex_native_warning"
SUMMARY_SUBTYPE = "codex_native_execution_summary"
_STATUS_LEVEL = {"running": "info", "completed": "info", "failed": "error", "interrupted": "warning"}


@dataclass(frozen=True)
class ProjectionContext:
    """Run facts the events don't carry; ``version`` is the lane's version string for the envelope."""

    cwd: str | Path
    session_id: str
    prompt: str
    policy: Policy
    executable: Executable | None
    model: str | None
    version: str
    git_branch: str | None
    exit_code: int | None = None
    protocol: str | None = None


def anthropic_usage(usage: Usage | None) -> dict[str, int]:
    """Codex usage in Anthropic names (see module docstring); zeros when there is none."""
    if usage is None:
        return {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "output_tokens": 0}
    return {
        "input_tokens": usage.input - usage.cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached,
        "output_tokens": usage.output,
    }


def codex_usage(usage: Usage | None) -> dict[str, int | None] | None:
    if usage is None:
        return None
    return {"input_tokens": usage.input, "cached_input_tokens": usage.cached, "output_tokens": usage.output,
            "reasoning_output_tokens": usage.reasoning, "cache_write_input_tokens": usage.cache_write,
            "total_tokens": usage.total}


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, the form Claude Code writes."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Writer:
    """Builds rows in order, chaining ``parentUuid`` and stamping the envelope."""

    def __init__(self, ctx: ProjectionContext, authority: Authority, clock: Callable[[], datetime],
                 new_id: Callable[[], str]) -> None:
        self.ctx, self.authority, self.clock, self.new_id = ctx, authority, clock, new_id
        self.rows: list[dict[str, Any]] = []

    def row(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        row = {
            "parentUuid": self.rows[-1]["uuid"] if self.rows else None,
            "isSidechain": False,
            "userType": "external",
            "cwd": str(self.ctx.cwd),
            "sessionId": self.ctx.session_id,
            "version": self.ctx.version,
            "gitBranch": self.ctx.git_branch or "",
            "type": kind,
            **body,
            "uuid": self.new_id(),
            "timestamp": iso(self.clock()),
        }
        self.rows.append(row)
        return row

    def system(self, subtype: str, level: str, content: str, *, status: str,
               warning_source: str | None = None, **extra: Any) -> None:
        exe = self.ctx.executable
        self.row("system", {
            "subtype": subtype,
            "level": level,
            "isMeta": False,
            "content": content,
            "codexNativeThreadStatus": status,
            "codexNativeThreadId": self.authority.thread_id,
            "codexNativeWarningSource": warning_source,
            "codexNativeCompletionPolicy": self.ctx.policy,
            "codexNativeHistoryCompleteness": self.authority.history_completeness,
            "codexNativeFinalUsageAuthority": self.authority.usage_authority,
            "codexNativeExecutablePath": exe.path if exe else None,
            "codexNativeExecutableSource": exe.source if exe else None,
            "codexNativeExecutableVersion": (exe.version_line or exe.version) if exe else None,
            **extra,
        })

    def assistant(self, content: list[dict[str, Any]], stop_reason: str | None) -> dict[str, Any]:
        return self.row("assistant", {
            "requestId": f"req_{self.new_id()}",
            "message": {
                "id": f"msg_{self.new_id()}",
                "type": "message",
                "role": "assistant",
                "model": self.ctx.model or "codex",
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": anthropic_usage(None),
            },
        })

    def user(self, content: str | list[dict[str, Any]], **extra: Any) -> None:
        self.row("user", {"message": {"role": "user", "content": content}, **extra})


class _Tools:
    """Pairs tool starts and completions by codex item id; tool_use ids are fresh, so repeats can't clash."""

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.open: dict[str, str] = {}  # codex item id → tool_use id awaiting its result

    def use(self, data: dict[str, Any]) -> None:
        item_id = str(data.get("item_id", ""))
        tool_use_id = f"toolu_{self.writer.new_id()}"
        tool_input = data.get("input")
        self.writer.assistant([{
            "type": "tool_use",
            "id": tool_use_id,
            "name": str(data.get("kind", "tool")),
            "input": tool_input if isinstance(tool_input, dict) else {"command": str(data.get("command", ""))},
        }], "tool_use")["codexNativeItemId"] = item_id
        self.open[item_id] = tool_use_id

    def result(self, data: dict[str, Any]) -> None:
        item_id = str(data.get("item_id", ""))
        if item_id not in self.open:
            self.use(data)  # a completion without a start (e.g. file_change): announce the call first
        exit_code, status = data.get("exit_code"), data.get("status")
        is_error = (status not in (None, "completed")) or (isinstance(exit_code, int) and exit_code != 0)
        self._answer(item_id, str(data.get("output", "")), is_error)

    def close_all(self, status: str, unreported: Mapping[str, str]) -> None:
        """Answer every tool still open: one codex reported missing (``unreported``: item id → the
        mapper's text) says its outcome is unknown; any other did not complete before the thread ended."""
        for item_id in list(self.open):
            if item_id in unreported:
                self._answer(item_id, unreported[item_id], True)
            else:
                self._answer(item_id, f"no result: the tool call did not complete (thread {status})", True)

    def _answer(self, item_id: str, output: str, is_error: bool) -> None:
        tool_use_id = self.open.pop(item_id)
        self.writer.user([{"type": "tool_result", "tool_use_id": tool_use_id, "content": output,
                           "is_error": is_error}], codexNativeItemId=item_id)


def _warning_rows(writer: _Writer, events: Sequence[NormalizedEvent]) -> None:
    for event in events:
        if event.kind == "warning":
            source = str(event.data.get("source", "process"))
            extra = {}
            if event.data.get("superseded_text"):  # a retry's notice keeps the reply it replaced
                extra["codexNativeRawEvent"] = {"type": "superseded-by-retry",
                                                "payload": list(event.data["superseded_text"])}
            writer.system(WARNING_SUBTYPE, "warning", str(event.data.get("text", "")), status="running",
                          warning_source=source, **extra)
        elif event.kind == "unsupported_raw_event":
            raw_type = str(event.data.get("raw_type", ""))
            writer.system(WARNING_SUBTYPE, "warning",
                          f"unsupported codex event {raw_type!r}: kept unmapped in codexNativeRawEvent",
                          status="running", warning_source="process",
                          codexNativeRawEvent={"type": raw_type, "payload": event.data.get("payload")})


def _unreported(events: Sequence[NormalizedEvent]) -> dict[str, str]:
    """item id → the tool_result text of each tool codex started and never reported finished."""
    return {str(e.data["item_id"]): str(e.data.get("tool_result", "")) for e in events
            if e.kind == "warning" and e.data.get("origin") == UNREPORTED_ORIGIN and "item_id" in e.data}


def _assistant_rows(writer: _Writer, events: Sequence[NormalizedEvent], authority: Authority) -> None:
    tools = _Tools(writer)
    unreported = _unreported(events)
    last_text: dict[str, Any] | None = None
    for event in live(events):
        if event.kind == "assistant_text":
            last_text = writer.assistant([{"type": "text", "text": str(event.data.get("text", ""))}], None)
        elif event.kind == "reasoning":
            writer.assistant([{"type": "thinking", "thinking": str(event.data.get("text", "")), "signature": ""}],
                             None)
        elif event.kind == "tool_started":
            tools.use(event.data)
        elif event.kind == "tool_completed":
            tools.result(event.data)
    tools.close_all(authority.thread_status, unreported)
    assistants = [r for r in writer.rows if r["type"] == "assistant"]
    if assistants:
        assistants[-1]["message"]["usage"] = anthropic_usage(authority.usage)
    if last_text is not None and authority.thread_status == "completed" and last_text is assistants[-1]:
        last_text["message"]["stop_reason"] = "end_turn"


def _summary_text(authority: Authority, ctx: ProjectionContext) -> str:
    usage = authority.usage
    tokens = (f"input {usage.input} (cached {usage.cached}), output {usage.output}, total {usage.total}"
              if usage else "no usage reported")
    return (f"codex exec {authority.thread_status} ({authority.status_reason}); thread "
            f"{authority.thread_id or '(none)'}; policy {ctx.policy}; history {authority.history_completeness}; "
            f"usage authority {authority.usage_authority}: {tokens}")


def project(
    events: Sequence[NormalizedEvent],
    authority: Authority,
    ctx: ProjectionContext,
    *,
    clock: Callable[[], datetime],
    new_id: Callable[[], str],
) -> list[dict[str, Any]]:
    """The transcript rows for one run, in the order the module docstring gives."""
    writer = _Writer(ctx, authority, clock, new_id)
    thread = authority.thread_id or "(no thread id)"
    writer.system(STATUS_SUBTYPE, "info", f"codex-native thread {thread}: running", status="running")
    writer.user(ctx.prompt)
    _warning_rows(writer, events)
    _assistant_rows(writer, events, authority)
    status = authority.thread_status
    level = _STATUS_LEVEL.get(status, "info")
    writer.system(SUMMARY_SUBTYPE, level, _summary_text(authority, ctx), status=status,
                  codexNativeUsage=codex_usage(authority.usage), codexNativeExitCode=ctx.exit_code,
                  codexNativeProtocol=ctx.protocol, codexNativeStatusReason=authority.status_reason,
                  codexNativeFinalText=authority.final_text)
    writer.system(STATUS_SUBTYPE, level, f"codex-native thread {thread}: {status}", status=status)
    return writer.rows


def to_jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    """Rows as UTF-8 JSONL. A lone surrogate (possible in text decoded from a broken stream) can't be
    encoded as UTF-8; ``backslashreplace`` turns it into a ``\\udXXX`` escape, which is valid JSON
    because it can only occur inside a string."""
    return b"".join(
        json.dumps(row, ensure_ascii=False, allow_nan=False).encode("utf-8", "backslashreplace") + b"\n"
        for row in rows
    )
