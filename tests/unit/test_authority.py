"""Authority rules on streams recorded from real builds (exit codes and timeouts from each .meta.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.lane.authority import Authority, derive_authority
from harness.lane.events import EventKind, NormalizedEvent, Usage
from harness.lane.mapper import map_stream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODERN_BUILDS = ("0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0")


def recorded(build: str, case: str) -> Authority:
    base = FIXTURES / f"codex-{build}" / case
    meta = json.loads(base.with_suffix(".meta.json").read_text())
    stream = map_stream(base.with_suffix(".stdout.jsonl").read_bytes(), base.with_suffix(".stderr.txt").read_bytes())
    return derive_authority(stream.events, policy=meta["policy"], exit_code=meta["exit_code"],
                            timed_out=meta["timed_out"], protocol=stream.protocol)


@pytest.mark.parametrize("build", MODERN_BUILDS)
@pytest.mark.parametrize("scenario", ["ok", "tool"])
def test_completed_run_of_modern_build(build: str, scenario: str) -> None:
    authority = recorded(build, f"{scenario}-persistent")
    assert authority.thread_status == "completed"
    assert authority.usage_authority == "live-turn-completed"
    assert authority.history_completeness == "explicit-hydration-required"  # until hydration reads it back
    assert authority.final_text == "OK"
    assert authority.thread_id
    assert authority.usage is not None
    assert authority.usage.input == (11 if scenario == "ok" else 22)


@pytest.mark.parametrize("build", ("0.117.0", "0.130.0", "0.142.0", "0.169.0"))
def test_ephemeral_run_is_live_only(build: str) -> None:
    authority = recorded(build, "ok-ephemeral")
    assert (authority.thread_status, authority.history_completeness) == ("completed", "live-only")


@pytest.mark.parametrize("build", MODERN_BUILDS)
def test_unauthorized_run_of_modern_build_failed(build: str) -> None:
    authority = recorded(build, "unauthorized-persistent")
    assert authority.thread_status == "failed"
    assert authority.status_reason.startswith("turn.failed: ") and "401" in authority.status_reason
    assert authority.usage_authority == "none" and authority.usage is None
    assert authority.final_text is None


def test_legacy_0_20_ok_completes_without_usage_authority() -> None:
    authority = recorded("0.20.0", "ok-persistent")
    assert authority.thread_status == "completed" and "legacy" in authority.status_reason
    assert authority.usage_authority == "none"  # token_count is not turn.completed
    assert authority.usage == Usage(input=11, cached=3, output=7, reasoning=2)
    assert authority.thread_id is None and authority.final_text == "OK"


def test_legacy_0_20_unauthorized_hangs_and_is_interrupted() -> None:
    authority = recorded("0.20.0", "unauthorized-persistent")  # recorded with timed_out: true
    assert authority.thread_status == "interrupted"


def test_legacy_0_42_exit_0_after_error_is_still_failed() -> None:
    authority = recorded("0.42.0", "unauthorized-persistent")  # rc 0 on error (≤0.42)
    assert authority.thread_status == "failed"


def _events(*pairs: tuple[EventKind, dict[str, object]]) -> list[NormalizedEvent]:
    return [NormalizedEvent(kind, dict(data)) for kind, data in pairs]


COMPLETED = _events(
    ("thread_started", {"thread_id": "t"}), ("turn_started", {}),
    ("assistant_text", {"item_id": "item_0", "text": "attempt 1"}),
    ("warning", {"source": "process", "text": "Reconnecting... 1/2", "origin": "error-event"}),
    ("assistant_text", {"item_id": "item_1", "text": "attempt 2"}),
    ("usage_updated", {"input": 11, "cached": 3, "output": 7, "origin": "turn.completed"}),
    ("turn_completed", {}),
)


def test_final_text_is_the_last_before_turn_completed() -> None:
    late = [*COMPLETED, NormalizedEvent("assistant_text", {"item_id": "x", "text": "after the end"})]
    assert derive_authority(late, policy="persistent", exit_code=0, timed_out=False).final_text == "attempt 2"


def test_usage_replaces_never_adds() -> None:
    more = [*COMPLETED[:-1], NormalizedEvent("usage_updated", {"input": 22, "cached": 6, "output": 14,
                                                               "origin": "turn.completed"}), COMPLETED[-1]]
    assert derive_authority(more, policy="ephemeral", exit_code=0, timed_out=False).usage == Usage(22, 6, 14)


@pytest.mark.parametrize(("exit_code", "timed_out", "status"), [
    (0, False, "completed"), (1, False, "failed"), (None, True, "interrupted"), (None, False, "interrupted"),
    (-9, False, "interrupted"), (0, True, "interrupted"),
])
def test_status_from_exit_code_and_timeout(exit_code: int | None, timed_out: bool, status: str) -> None:
    authority = derive_authority(COMPLETED, policy="persistent", exit_code=exit_code, timed_out=timed_out)
    assert authority.thread_status == status
    assert (authority.final_text == "attempt 2") == (status == "completed")


def test_modern_stream_without_terminal_event_failed() -> None:
    authority = derive_authority(COMPLETED[:-2], policy="persistent", exit_code=0, timed_out=False)
    assert authority.thread_status == "failed" and "without turn.completed" in authority.status_reason
    assert authority.usage_authority == "none"


def test_last_terminal_event_wins_and_usage_needs_turn_completed() -> None:
    failed_after = [*COMPLETED, NormalizedEvent("turn_failed", {"message": "boom"})]
    assert derive_authority(failed_after, policy="persistent", exit_code=1, timed_out=False).thread_status == "failed"
    legacy_usage = _events(("usage_updated", {"input": 1, "cached": 0, "output": 1, "origin": "legacy-token_count"}),
                           ("turn_completed", {}))
    assert derive_authority(legacy_usage, policy="persistent", exit_code=0,
                            timed_out=False).usage_authority == "none"


def test_empty_stream() -> None:
    authority = derive_authority([], policy="ephemeral", exit_code=0, timed_out=False, protocol="unknown")
    assert (authority.thread_id, authority.thread_status, authority.usage, authority.final_text) == (
        None, "failed", None, None)
