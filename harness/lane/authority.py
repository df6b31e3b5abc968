"""What a run's live stream may be trusted for: thread status, usage authority, history completeness.

Codex's stream contains much that looks like a verdict but is not one: top-level ``error`` events are
retry notices, ``agent_message`` is re-emitted for every retry attempt, and legacy builds (≤0.42) exit 0
after a fatal error. Only the terminal event (``turn.completed`` / ``turn.failed``) plus the exit code
decide the status, and only ``turn.completed`` makes usage authoritative. History is never assumed
complete from the live stream: ephemeral runs are ``live-only`` by construction, and persistent runs
stay ``explicit-hydration-required`` until :mod:`harness.lane.hydration` has read the rollout back.

Rules, in order:

* timed out, killed (negative exit code) or no exit code → ``interrupted``;
* the last terminal event is ``turn.failed`` → ``failed``;
* it is ``turn.completed`` → ``completed`` if the exit code is 0, else ``failed`` (the two disagree);
* no terminal event: a legacy stream (which never prints one) → ``completed`` on exit 0, a modern
  stream → ``failed`` (it ended without saying how the turn went).

``final_text`` is the last assistant text before the terminal event that no retry superseded
(:mod:`harness.lane.retries`), and only for a completed turn: text from a failed or interrupted turn
may be an attempt that was cut short, not an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from harness.lane.events import NormalizedEvent, Policy, Protocol, Usage

ThreadStatus = Literal["running", "completed", "failed", "interrupted"]
UsageAuthority = Literal["live-turn-completed", "none"]
HistoryCompleteness = Literal["live-only", "explicit-hydration-required", "hydrated"]

_TERMINAL = ("turn_completed", "turn_failed")


@dataclass(frozen=True)
class Authority:
    """The lane's verdict on one run; ``status_reason`` says in words why the status is what it is."""

    thread_id: str | None
    thread_status: ThreadStatus
    usage_authority: UsageAuthority
    history_completeness: HistoryCompleteness
    usage: Usage | None
    final_text: str | None
    status_reason: str = ""


def usage_from_event(event: NormalizedEvent) -> Usage | None:
    """A ``usage_updated`` event as :class:`Usage`; None if its counts are missing."""
    data = event.data
    try:
        return Usage(
            input=int(data["input"]),
            cached=int(data.get("cached", 0)),
            output=int(data["output"]),
            reasoning=None if data.get("reasoning") is None else int(data["reasoning"]),
            cache_write=None if data.get("cache_write") is None else int(data["cache_write"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def initial_history(policy: Policy) -> HistoryCompleteness:
    """What history completeness a policy starts at, before any read-back."""
    return "live-only" if policy == "ephemeral" else "explicit-hydration-required"


def _status(
    terminal: NormalizedEvent | None, exit_code: int | None, timed_out: bool, protocol: Protocol
) -> tuple[ThreadStatus, str]:
    if timed_out:
        return "interrupted", "timed out; the process group was killed"
    if exit_code is None:
        return "interrupted", "no exit code (the process did not exit on its own)"
    if exit_code < 0:
        return "interrupted", f"killed by signal {-exit_code}"
    if terminal is not None and terminal.kind == "turn_failed":
        return "failed", f"turn.failed: {terminal.data.get('message', '')}"
    if terminal is not None:
        if exit_code == 0:
            return "completed", "turn.completed and exit code 0"
        return "failed", f"turn.completed but exit code {exit_code}"
    if protocol == "legacy":
        if exit_code == 0:
            return "completed", "legacy stream (no terminal event): exit code 0 and no error message"
        return "failed", f"legacy stream (no terminal event): exit code {exit_code}"
    return "failed", f"stream ended without turn.completed or turn.failed (exit code {exit_code})"


def derive_authority(
    events: Sequence[NormalizedEvent],
    *,
    policy: Policy,
    exit_code: int | None,
    timed_out: bool,
    protocol: Protocol = "thread-events",
) -> Authority:
    """Apply the module's rules to one run's events; pure, so tests can feed recorded streams."""
    thread_id = next((str(e.data["thread_id"]) for e in events
                      if e.kind == "thread_started" and e.data.get("thread_id")), None)
    terminal_index = max((i for i, e in enumerate(events) if e.kind in _TERMINAL), default=None)
    terminal = events[terminal_index] if terminal_index is not None else None
    status, reason = _status(terminal, exit_code, timed_out, protocol)

    usage_events = [e for e in events if e.kind == "usage_updated"]
    last_usage = usage_events[-1] if usage_events else None  # cumulative: the last one replaces the rest
    usage = usage_from_event(last_usage) if last_usage is not None else None
    from_turn_completed = (
        last_usage is not None
        and last_usage.data.get("origin") == "turn.completed"
        and any(e.kind == "turn_completed" for e in events)
    )

    final_text = None
    if status == "completed":
        horizon = events[:terminal_index] if terminal_index is not None else events
        texts = [str(e.data.get("text", "")) for e in horizon
                 if e.kind == "assistant_text" and not e.data.get("superseded")]
        final_text = texts[-1] if texts else None

    return Authority(
        thread_id=thread_id,
        thread_status=status,
        usage_authority="live-turn-completed" if from_turn_completed and usage is not None else "none",
        history_completeness=initial_history(policy),
        usage=usage,
        final_text=final_text,
        status_reason=reason,
    )
