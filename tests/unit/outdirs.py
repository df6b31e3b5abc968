"""Out dirs as a run leaves them (results.json + raw/<build>/cells/<cell>/<scenario>/ artifacts), without
Docker: the artifacts are written with the wall's file names, the results through the real writers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from harness.fingerprint import build_fingerprints
from harness.redact import Redactor
from harness.report import write_reports
from harness.results import CellResult, RunResults, cell_status, now
from harness.run import JobEnd, harvest
from harness.suite.facts import Facts
from harness.suite.protocol import (
    JOURNAL_FILE,
    LOG_FILE,
    RESOLVER_FILE,
    STDERR_FILE,
    SUMMARY_FILE,
    TRANSCRIPT_FILE,
    CellSpec,
    FinishLine,
    PlanLine,
    TestRecord,
    log_line,
    scenario_dir,
)

TRANSCRIPT = [
    {"type": "system", "subtype": "codex_native_thread_status", "content": "codex-native thread t1: running"},
    {"type": "user", "message": {"role": "user", "content": "Reply only with OK"}},
    {"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "command_execution", "input": {"command": "echo hi"}}],
        "usage": {"input_tokens": 5, "output_tokens": 7}}},
    {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "hi\n", "is_error": False}]}},
    {"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": "OK"}]}},
    {"type": "system", "subtype": "codex_native_thread_status", "content": "codex-native thread t1: completed"},
]


def write_raw(raw: Path, cells: list[CellSpec], statuses: dict[str, str], transcript_rows: int = 6) -> None:
    """One container's output dir: the suite log and, per (cell, scenario), the artifacts the suite writes."""
    raw.mkdir(parents=True, exist_ok=True)
    records = []
    for cell in cells:
        for scenario in cell.scenarios:
            outcome = statuses.get(cell.id, "pass")
            message = f"boom in {scenario}" if outcome in ("fail", "error") else ""
            records.append(TestRecord(cell.id, f"test_contract[{scenario}]", scenario, outcome, message, 0.01))
            d = scenario_dir(raw, cell.id, scenario)
            d.mkdir(parents=True, exist_ok=True)
            rows = (TRANSCRIPT * (transcript_rows // len(TRANSCRIPT) + 1))[:transcript_rows]
            (d / TRANSCRIPT_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
            (d / JOURNAL_FILE).write_text(json.dumps([{"method": "POST", "status": 200, "credential": "valid",
                                                       "model": "gpt-5.5", "tool_called": "exec_command"}]))
            (d / SUMMARY_FILE).write_text(json.dumps({"thread_status": "completed", "exit_code": 0,
                                                      "status_reason": "turn.completed and exit code 0"}))
            (d / STDERR_FILE).write_text("Reading additional input from stdin...\n")
            (d / RESOLVER_FILE).write_text(json.dumps({"resolved": "codex-native", "state": "selected",
                                                       "native": {"state": "ready", "reason": "ready"}}))
            (d / "facts.json").write_text(json.dumps(Facts(
                version_line=f"codex-cli {cell.version}", protocol="thread-events", flags=["--json"],
                event_types=["thread.started", f"only-in-{cell.version}"],
                usage_keys=["input_tokens"], wall_s=0.5).to_json()))
    plan = PlanLine({c.id: len(c.scenarios) for c in cells})
    lines: list[PlanLine | TestRecord | FinishLine] = [plan, *records, FinishLine(0)]
    (raw / LOG_FILE).write_text("".join(log_line(x) for x in lines))


def make_out(out: Path, cells: list[CellSpec], statuses: dict[str, str] | None = None,
             started: datetime | None = None, interrupted: bool = False, transcript_rows: int = 6) -> RunResults:
    """A finished run's out dir: one raw dir per build, harvested, and every report written."""
    statuses = statuses or {}
    results: list[CellResult] = []
    for version in dict.fromkeys(c.version for c in cells):
        mine = [c for c in cells if c.version == version]
        raw = out / "raw" / version
        write_raw(raw, mine, statuses, transcript_rows)
        results += harvest(mine, raw, JobEnd(exit_code=0))
    for r in results:
        assert r.status == cell_status(r.tests)
    run = RunResults(started=started or now(), duration_s=10.0, cells=results, builds=build_fingerprints(results),
                     interrupted=interrupted)
    write_reports(run, out, Redactor())
    return run


def later(minutes: float) -> datetime:
    return now() + timedelta(minutes=minutes)
