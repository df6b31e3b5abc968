"""Hydration on rollout files recorded from real builds, placed where codex puts them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.lane.authority import derive_authority
from harness.lane.events import Usage
from harness.lane.hydration import find_rollout, hydrate, read_rollout
from harness.lane.mapper import map_stream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODERN_BUILDS = ("0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0")


def install(codex_home: Path, build: str, case: str) -> tuple[str, str | None, Usage | None]:
    """Put the recorded rollout under codex_home/sessions as codex names it; return the live facts."""
    base = FIXTURES / f"codex-{build}" / case
    stream = map_stream(base.with_suffix(".stdout.jsonl").read_bytes())
    authority = derive_authority(stream.events, policy="persistent", exit_code=0, timed_out=False,
                                 protocol=stream.protocol)
    assert authority.thread_id is not None
    day = codex_home / "sessions" / "2026" / "11" / "24"
    day.mkdir(parents=True)
    (day / f"rollout-2026-11-24T18-03-38-{authority.thread_id}.jsonl").write_bytes(
        base.with_suffix(".rollout.jsonl").read_bytes())
    return authority.thread_id, authority.final_text, authority.usage


@pytest.mark.parametrize("build", MODERN_BUILDS)
@pytest.mark.parametrize("scenario", ["ok", "tool"])
def test_recorded_rollout_agrees_with_live_stream(tmp_path: Path, build: str, scenario: str) -> None:
    thread_id, text, usage = install(tmp_path, build, f"{scenario}-persistent")
    result = hydrate(tmp_path, thread_id, final_text=text, usage=usage)
    assert result.completeness == "hydrated", result.warnings
    assert result.warnings == ()
    assert result.rollout_path is not None and thread_id in result.rollout_path.name


@pytest.mark.parametrize(("build", "reasoning"), [("0.117.0", 2), ("0.44.0", 2), ("0.169.0", 2)])
def test_rollout_usage_is_the_running_total(build: str, reasoning: int) -> None:
    facts = read_rollout((FIXTURES / f"codex-{build}" / "tool-persistent.rollout.jsonl").read_bytes())
    assert facts.final_text == "OK"
    assert facts.usage is not None
    assert (facts.usage.input, facts.usage.cached, facts.usage.output) == (22, 6, 14)
    assert facts.usage.reasoning == 2 * reasoning  # the rollout has it even where live usage (0.117) omits it


def test_legacy_0_20_rollout_has_text_but_no_usage() -> None:
    facts = read_rollout((FIXTURES / "codex-0.20.0" / "ok-persistent.rollout.jsonl").read_bytes())
    assert (facts.final_text, facts.usage) == ("OK", None)


def test_different_final_text_is_named(tmp_path: Path) -> None:
    thread_id, _, usage = install(tmp_path, "0.117.0", "ok-persistent")
    result = hydrate(tmp_path, thread_id, final_text="NOT OK", usage=usage)
    assert result.completeness == "explicit-hydration-required"
    (message,) = result.warnings
    assert "final assistant text: live stream 'NOT OK', rollout 'OK'" in message


def test_different_usage_is_named_per_field(tmp_path: Path) -> None:
    thread_id, text, _ = install(tmp_path, "0.169.0", "ok-persistent")
    result = hydrate(tmp_path, thread_id, final_text=text,
                     usage=Usage(input=12, cached=3, output=7, reasoning=2, cache_write=5))
    assert result.completeness == "explicit-hydration-required"
    assert [w.split("differs from the live stream: ")[1] for w in result.warnings] == [
        "usage input: live stream 12, rollout 11", "usage cache_write: live stream 5, rollout 4"]


def test_usage_missing_on_one_side(tmp_path: Path) -> None:
    thread_id, text, _ = install(tmp_path, "0.44.0", "ok-persistent")
    result = hydrate(tmp_path, thread_id, final_text=text, usage=None)
    assert result.completeness == "explicit-hydration-required"
    assert "usage: live stream none, rollout input 11, cached 3, output 7" in result.warnings[0]


def test_missing_rollout(tmp_path: Path) -> None:
    result = hydrate(tmp_path, "01a20eba-0000-0000-0000-000000000000", final_text="OK", usage=None)
    assert result.completeness == "explicit-hydration-required" and result.rollout_path is None
    assert "no rollout file for thread 01a20eba-0000-0000-0000-000000000000" in result.warnings[0]


def test_no_thread_id(tmp_path: Path) -> None:
    result = hydrate(tmp_path, None, final_text="OK", usage=None)
    assert result.completeness == "explicit-hydration-required"
    assert "no thread id" in result.warnings[0]


def test_thread_id_is_never_a_glob(tmp_path: Path) -> None:
    install(tmp_path, "0.44.0", "ok-persistent")
    assert find_rollout(tmp_path, "*") is None
    assert find_rollout(tmp_path, "../x") is None


def test_malformed_lines_are_tolerated_and_reported(tmp_path: Path) -> None:
    thread_id, text, usage = install(tmp_path, "0.142.0", "ok-persistent")
    path = find_rollout(tmp_path, thread_id)
    assert path is not None
    path.write_bytes(b"\xff garbage\n[1]\n" + path.read_bytes() + b'{"type":"event_msg","payload":{"type":"tok')
    result = hydrate(tmp_path, thread_id, final_text=text, usage=usage)
    assert result.completeness == "hydrated"
    assert "3 line(s) unreadable" in result.warnings[0]


def test_retry_rollout_last_attempt_is_final() -> None:
    # trimmed from a real 0.117.0 rollout of a run whose first attempt was cut off and retried
    lines = [
        {"type": "event_msg", "payload": {"type": "agent_message", "message": "attempt 1", "phase": None}},
        {"type": "response_item", "payload": {"type": "message", "role": "assistant",
                                              "content": [{"type": "output_text", "text": "attempt 1"}]}},
        {"type": "event_msg", "payload": {"type": "agent_message", "message": "attempt 2", "phase": None}},
        {"type": "response_item", "payload": {"type": "message", "role": "assistant",
                                              "content": [{"type": "output_text", "text": "attempt 2"}]}},
        {"type": "event_msg", "payload": {"type": "task_complete", "last_agent_message": "attempt 2"}},
    ]
    facts = read_rollout(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    assert facts.final_text == "attempt 2"
