"""The native seam: `codex exec --json` grammar, exit code, identity and session files per policy."""

from __future__ import annotations

import json

import pytest

from harness.buildid import reported_version
from harness.fakeapi.scenarios import SUCCESS_SCENARIOS
from harness.suite.cellrun import Outcome
from harness.suite.oracle import sent_reply

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


def _events(outcome: Outcome) -> list[dict]:
    assert outcome.result.seam is not None, f"the lane did not run codex: {outcome.result.refused}"
    lines = outcome.result.seam.stdout.decode("utf-8", "replace").splitlines()
    return [json.loads(line) for line in lines if line.strip().startswith("{")]


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_event_grammar(outcome: Outcome) -> None:
    events = _events(outcome)
    types = [e.get("type") for e in events]
    assert types, "no JSON events on stdout"
    assert types[0] == "thread.started", f"first event is {types[0]!r}, not thread.started"
    assert isinstance(events[0].get("thread_id"), str) and events[0]["thread_id"]
    assert "turn.started" in types
    messages = [e["item"]["text"] for e in events
                if e.get("type") == "item.completed" and e.get("item", {}).get("type") == "agent_message"]
    assert messages and messages[-1] == sent_reply(outcome.turns), f"agent messages: {messages!r}"
    assert types[-1] == "turn.completed", f"last event is {types[-1]!r}"
    usage = events[-1].get("usage", {})
    for key in ("input_tokens", "cached_input_tokens", "output_tokens"):
        assert isinstance(usage.get(key), int), f"usage.{key} is {usage.get(key)!r}"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_exit_code_zero(outcome: Outcome) -> None:
    seam = outcome.result.seam
    assert seam is not None and not seam.timed_out
    assert seam.exit_code == 0


@pytest.mark.kinds("starts_codex")
@pytest.mark.scenarios("ok")
def test_executable_identity(outcome: Outcome) -> None:
    exe = outcome.result.executable
    assert exe is not None, "no codex found on PATH"
    assert exe.path == "/usr/local/bin/codex"
    assert exe.source == "system-path"
    reported = reported_version(outcome.cell.version)  # a local build's id carries its content hash too
    assert exe.version_line == f"codex-cli {reported}"
    assert exe.version == reported


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("ok")
def test_probe_capabilities(outcome: Outcome) -> None:
    caps = outcome.result.capabilities
    assert caps is not None
    assert caps.protocol == "thread-events"
    assert {"--json", "--skip-git-repo-check"} <= set(caps.flags)
    assert caps.supports_ephemeral == ("--ephemeral" in caps.flags)


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_session_files_follow_policy(outcome: Outcome) -> None:
    files = outcome.session_files
    if outcome.cell.policy == "ephemeral":
        assert files == [], f"an ephemeral run wrote session files: {files}"
    else:
        assert len(files) == 1 and "rollout-" in files[0], f"persistent run session files: {files}"


def _error_items(outcome: Outcome) -> list[str]:
    return [e["item"].get("message", "") for e in _events(outcome)
            if e.get("type") == "item.completed" and e.get("item", {}).get("type") == "error"]


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("ok", "tool", "tool-race")
def test_successful_turn_has_no_error_items(outcome: Outcome) -> None:
    """With a model slug the build knows, a clean turn streams no `error` items."""
    assert _error_items(outcome) == []


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_error_items_become_process_warnings(outcome: Outcome) -> None:
    """Every error item is a process warning, and no error-item warning exists without its item."""
    items = sorted(_error_items(outcome))
    attributed = sorted(str(w.data.get("text")) for w in outcome.result.warnings
                        if w.data.get("origin") == "error-item")
    assert attributed == items
    assert all(w.data.get("source") == "process" for w in outcome.result.warnings
               if w.data.get("origin") == "error-item")


@pytest.mark.kinds("thread_stream")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_runs_with_the_model_it_was_given(outcome: Outcome) -> None:
    """The request names the slug the cell chose: one from the build's own catalog (or its default)."""
    sent = {e.get("model") for e in outcome.turns}
    assert sent == {outcome.facts.model}, f"requests named {sent}, the cell chose {outcome.facts.model!r}"
    if outcome.scenario == "unknown-model":
        assert outcome.facts.model not in outcome.facts.model_catalog
    elif outcome.facts.model_catalog:
        assert outcome.facts.model in outcome.facts.model_catalog
