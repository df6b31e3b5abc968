"""Read a persistent run's rollout back and check it against the live stream.

A persistent run is only as good as what codex wrote to ``CODEX_HOME/sessions``: resuming or replaying
the thread later reads that file, not the live stream. So history is called ``hydrated`` only when the
rollout exists *and* says the same as the live stream about the two things the lane reports — the
final assistant text and the token usage. Anything else leaves it ``explicit-hydration-required`` with
a ``history`` warning per difference, worded so a user can see what to look at.

Rollout layout differs by build (all measured):

* 0.44+: ``{"timestamp", "type", "payload"}`` lines; assistant text in ``event_msg`` ``agent_message``
  / ``task_complete.last_agent_message``, ``response_item`` assistant ``message``s and (0.169)
  ``event_msg`` ``item_completed`` ``AgentMessage`` items; usage in ``event_msg`` ``token_count``
  ``info.total_token_usage`` (a running total, like ``turn.completed.usage``).
* 0.20: bare ``{"type":"message","role":"assistant"}`` lines and no usage at all.

The last text in file order is the final one: on retries every attempt is recorded, the last one last.
Live usage from builds before 0.125 omits ``reasoning_output_tokens`` although the rollout has it, so
optional counts are compared only when the live stream reported them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.lane.authority import HistoryCompleteness
from harness.lane.events import Usage
from harness.lane.mapper import usage_fields

#: Thread ids are UUIDs; anything else must not reach a glob pattern.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")  # fullmatch
_TEXT_CLIP = 200


@dataclass(frozen=True)
class HydrationResult:
    """``completeness`` is ``hydrated`` or ``explicit-hydration-required``; warnings have source history."""

    completeness: HistoryCompleteness
    rollout_path: Path | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class RolloutFacts:
    """What a rollout file says about the run's outcome."""

    final_text: str | None
    usage: Usage | None
    unreadable_lines: int


def find_rollout(codex_home: Path, thread_id: str) -> Path | None:
    """The newest ``sessions/**/rollout-*<thread_id>*.jsonl`` (names start with a timestamp)."""
    if not _SAFE_ID.fullmatch(thread_id):
        return None
    matches = sorted((Path(codex_home) / "sessions").glob(f"**/rollout-*{thread_id}*.jsonl"))
    return matches[-1] if matches else None


def _objects(data: bytes) -> Iterator[dict[str, Any] | None]:
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            yield None
            continue
        yield value if isinstance(value, dict) else None


def _message_text(message: Mapping[str, Any]) -> str | None:
    """Text of an assistant ``message`` item (``output_text`` parts) or a 0.169 ``AgentMessage`` item."""
    content = message.get("content")
    if not isinstance(content, list):
        return None
    parts = [c["text"] for c in content
             if isinstance(c, Mapping) and c.get("type") in ("output_text", "Text") and isinstance(c.get("text"), str)]
    return "".join(parts) if parts else None


def _text_of(kind: Any, payload: Mapping[str, Any]) -> str | None:
    if kind == "event_msg":
        inner = payload.get("type")
        if inner == "agent_message" and isinstance(payload.get("message"), str):
            return str(payload["message"])
        if inner == "task_complete" and isinstance(payload.get("last_agent_message"), str):
            return str(payload["last_agent_message"])
        item = payload.get("item")
        if inner == "item_completed" and isinstance(item, Mapping) and item.get("type") == "AgentMessage":
            return _message_text(item)
        return None
    if kind in ("response_item", "message") and payload.get("type", "message") == "message":
        return _message_text(payload) if payload.get("role") == "assistant" else None
    return None


def read_rollout(data: bytes) -> RolloutFacts:
    """Final assistant text and last usage total of a rollout; tolerant of lines it can't read."""
    final_text: str | None = None
    usage: Usage | None = None
    unreadable = 0
    for obj in _objects(data):
        if obj is None:
            unreadable += 1
            continue
        payload = obj.get("payload") if isinstance(obj.get("payload"), Mapping) else obj
        assert isinstance(payload, Mapping)
        kind = obj.get("type")
        text = _text_of(kind, payload)
        if text is not None:
            final_text = text
        if kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            fields = usage_fields(info.get("total_token_usage")) if isinstance(info, Mapping) else None
            if fields is not None:
                usage = Usage(**fields)
    return RolloutFacts(final_text=final_text, usage=usage, unreadable_lines=unreadable)


def _clip(text: str | None) -> str:
    if text is None:
        return "none"
    return repr(text if len(text) <= _TEXT_CLIP else text[:_TEXT_CLIP] + "…")


def usage_differences(live: Usage | None, rollout: Usage | None) -> list[str]:
    """Human-readable differences; optional counts only when the live stream reported them."""
    if live is None and rollout is None:
        return []
    if live is None or rollout is None:
        return [f"usage: live stream {'none' if live is None else _fmt(live)}, "
                f"rollout {'none' if rollout is None else _fmt(rollout)}"]
    diffs = []
    for name in ("input", "cached", "output", "reasoning", "cache_write"):
        live_value, rollout_value = getattr(live, name), getattr(rollout, name)
        if live_value is None or (rollout_value is None and name in ("reasoning", "cache_write")):
            continue
        if live_value != rollout_value:
            diffs.append(f"usage {name}: live stream {live_value}, rollout {rollout_value}")
    return diffs


def _fmt(usage: Usage) -> str:
    return f"input {usage.input}, cached {usage.cached}, output {usage.output}"


def hydrate(codex_home: Path, thread_id: str | None, *, final_text: str | None, usage: Usage | None) -> HydrationResult:
    """Find, read and compare the rollout; never raises for missing or malformed files."""
    pending: HistoryCompleteness = "explicit-hydration-required"
    sessions = Path(codex_home) / "sessions"
    if not thread_id:
        return HydrationResult(pending, None, (
            f"history not hydrated: the live stream carried no thread id, so no rollout under {sessions} "
            "can be matched to this run",))
    path = find_rollout(Path(codex_home), thread_id)
    if path is None:
        return HydrationResult(pending, None, (
            f"history not hydrated: no rollout file for thread {thread_id} under {sessions} "
            f"(looked for **/rollout-*{thread_id}*.jsonl)",))
    try:
        facts = read_rollout(path.read_bytes())
    except OSError as exc:
        return HydrationResult(pending, path, (f"history not hydrated: rollout {path} unreadable: {exc}",))
    diffs = []
    if facts.final_text != final_text:
        diffs.append(f"final assistant text: live stream {_clip(final_text)}, rollout {_clip(facts.final_text)}")
    diffs.extend(usage_differences(usage, facts.usage))
    if diffs:
        return HydrationResult(pending, path, tuple(f"history not hydrated: rollout {path} differs from the "
                                                    f"live stream: {diff}" for diff in diffs))
    notes: tuple[str, ...] = ()
    if facts.unreadable_lines:
        notes = (f"rollout {path}: {facts.unreadable_lines} line(s) unreadable; final text and usage still agree",)
    return HydrationResult("hydrated", path, notes)
