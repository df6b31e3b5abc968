"""Projection parsing: every cell's live transcript passes the strict reader unchanged and in order."""

from __future__ import annotations

import itertools

import pytest

from harness.fakeapi.scenarios import SUCCESS_SCENARIOS
from harness.suite.cellrun import Outcome
from harness.suite.expectations import expected_history

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


def _system(rows: list[dict], subtype: str) -> list[dict]:
    return [r for r in rows if r.get("type") == "system" and r.get("subtype") == subtype]


def test_zero_dropped_rows(outcome: Outcome) -> None:
    read = outcome.read
    assert read.dropped == [], f"strict reader dropped rows: {read.dropped}"
    assert len(read.kept) == len(outcome.result.transcript)
    assert not read.bom_lines and not read.partial_trailing_line


def test_row_order(outcome: Outcome) -> None:
    rows = outcome.result.transcript
    assert rows[0]["type"] == "system" and rows[0]["subtype"] == "codex_native_thread_status"
    assert rows[0]["codexNativeThreadStatus"] == "running"
    assert rows[1]["type"] == "user"
    assert rows[-1]["subtype"] == "codex_native_thread_status"
    assert rows[-1]["codexNativeThreadStatus"] == outcome.result.authority.thread_status
    assert rows[-2]["subtype"] == "codex_native_execution_summary"
    kinds = ["warning" if r.get("subtype") == "codex_native_warning" else r["type"] for r in rows[2:-2]]
    if "assistant" in kinds:
        last_warning = max((i for i, k in enumerate(kinds) if k == "warning"), default=-1)
        assert last_warning < kinds.index("assistant"), f"warning rows after assistant rows: {kinds}"
    uuids = [r["uuid"] for r in rows]
    assert len(set(uuids)) == len(uuids), "uuids are not unique"
    for prev, row in itertools.pairwise(rows):
        assert row["parentUuid"] == prev["uuid"]


def test_native_fields_intact(outcome: Outcome) -> None:
    result = outcome.result
    final = _system(outcome.read.kept, "codex_native_thread_status")[-1]
    assert final["codexNativeCompletionPolicy"] == outcome.cell.policy
    assert final["codexNativeHistoryCompleteness"] == result.authority.history_completeness
    assert final["codexNativeFinalUsageAuthority"] == result.authority.usage_authority
    assert final["codexNativeThreadId"] == result.authority.thread_id
    if result.executable is not None:
        assert final["codexNativeExecutablePath"] == result.executable.path
        assert final["codexNativeExecutableSource"] == result.executable.source
        assert final["codexNativeExecutableVersion"] == result.executable.version_line


@pytest.mark.kinds("thread_stream")
@pytest.mark.needs("projection", "policy")
def test_history_completeness_per_policy(outcome: Outcome) -> None:
    auth = outcome.result.authority
    want = expected_history(outcome.cell.policy, auth.thread_status)
    if outcome.variant is not None and outcome.variant.tampered and outcome.cell.policy == "persistent":
        want = {"explicit-hydration-required"}  # the rollout was edited after the run: it must not hydrate
    assert auth.history_completeness in want


def test_warning_sources(outcome: Outcome) -> None:
    rows = _system(outcome.read.kept, "codex_native_warning")
    sources = {r["codexNativeWarningSource"] for r in rows}
    assert sources <= {"process", "history"}, sources
    stderr = outcome.result.seam.stderr.strip() if outcome.result.seam else b""
    if stderr:
        assert "process" in sources, "stderr output was not projected as a process warning"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios(*SUCCESS_SCENARIOS)
def test_usage_sum_rule(outcome: Outcome) -> None:
    usage = outcome.result.authority.usage
    assert usage is not None
    rows = [r for r in outcome.read.kept if r["type"] == "assistant" and r["message"].get("usage")]
    assert rows, "no assistant row carries usage"
    u = rows[-1]["message"]["usage"]
    assert u["input_tokens"] == usage.input - usage.cached
    assert u["cache_read_input_tokens"] == usage.cached
    assert u["output_tokens"] == usage.output
    assert u["input_tokens"] + u["cache_read_input_tokens"] + u["output_tokens"] == usage.input + usage.output


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tool", "tool-race")
def test_tool_use_pairs_with_tool_result(outcome: Outcome) -> None:
    uses = [b for r in outcome.read.kept if r["type"] == "assistant"
            for b in r["message"]["content"] if b.get("type") == "tool_use"]
    results = [b for r in outcome.read.kept if r["type"] == "user" and isinstance(r["message"].get("content"), list)
               for b in r["message"]["content"] if b.get("type") == "tool_result"]
    assert uses, "no tool_use block"
    assert {u["id"] for u in uses} == {r["tool_use_id"] for r in results}
