"""Normalized lane events: the one vocabulary between the seam's raw JSONL and everything downstream.

Codex's exec stream changed shape across releases; mapping it once into these events keeps the
authority rules, the projector and the contract tests independent of any build's wire format.
Unknown input is carried as ``unsupported_raw_event`` rather than dropped, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "thread_started",  # data: thread_id
    "turn_started",  # data: {}
    "assistant_text",  # data: item_id, text
    "reasoning",  # data: item_id, text
    "tool_started",  # data: item_id, kind, command, input (the tool_use input)
    "tool_completed",  # data: item_id, kind, command, output, exit_code, status
    "usage_updated",  # data: input, cached, output, reasoning?, cache_write?, origin (cumulative per turn)
    "turn_completed",  # data: {}
    "turn_failed",  # data: message
    "warning",  # data: source ("process" | "history"), text, origin (stdout|stderr|error-event|…)
    "unsupported_raw_event",  # data: raw_type, payload
]

EVENT_KINDS: tuple[str, ...] = (
    "thread_started",
    "turn_started",
    "assistant_text",
    "reasoning",
    "tool_started",
    "tool_completed",
    "usage_updated",
    "turn_completed",
    "turn_failed",
    "warning",
    "unsupported_raw_event",
)

WarningSource = Literal["process", "history"]
#: Completion policy of a run: ``ephemeral`` (codex --ephemeral, nothing persisted) or ``persistent``.
Policy = Literal["ephemeral", "persistent"]
#: codex's own sandbox modes (``-c sandbox_mode=…``; every build 0.20–0.169 takes the same values).
SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]
#: Stream protocol of ``codex exec --json``: ThreadEvent lines (0.44+), the legacy ``{id,msg}`` stream, or not known.
Protocol = Literal["thread-events", "legacy", "unknown"]


@dataclass(frozen=True)
class NormalizedEvent:
    """One normalized event; ``data`` keys per kind are listed on ``EventKind``."""

    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.data}


@dataclass(frozen=True)
class Usage:
    """Token usage as codex reports it (cumulative for the turn); ``None`` = the build did not send it."""

    input: int
    cached: int
    output: int
    reasoning: int | None = None
    cache_write: int | None = None

    @property
    def total(self) -> int:
        return self.input + self.output
