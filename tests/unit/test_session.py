"""run_lane end to end through the real seam runner (real processes, real pipes, real timeouts).

Most tests drive a *replay* executable: a tiny shell script that answers ``--version`` and
``exec --help`` with a recorded build's real answers and, for a run, prints that build's recorded
stdout/stderr, writes its recorded rollout where codex would, and exits with its recorded code. That
keeps the whole pipeline real except the model call, for every recorded build, in milliseconds.
The Phase 0 sign-off runs with the real 0.117.0 binary are in tests/integration/test_lane_signoff.py.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import re
import shlex
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.cli import lane as lane_cli
from harness.lane.projection import to_jsonl
from harness.lane.reader import read_transcript
from harness.lane.session import LaneRequest, LaneResult, run_lane

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KEY = "sk-session-test-key-0123456789"
MODERN = ("0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0")


def replay(tmp: Path, build: str, case: str | None, *, stderr_extra: bytes = b"", body: str = "") -> Path:
    """Write a replay executable for ``build``; ``case`` None = only --version/--help, then ``body``."""
    folder = FIXTURES / f"codex-{build}"
    script = tmp / f"codex-replay-{build}-{case}"
    lines = ["#!/bin/sh",
             f'if [ "$1" = "--version" ]; then echo "codex-cli {build}"; exit 0; fi',
             f'if [ "$1" = "exec" ] && [ "$2" = "--help" ]; then /bin/cat {shlex.quote(str(folder / "exec-help.txt"))};'
             " exit 0; fi"]
    if case is not None:
        base = folder / case
        meta = json.loads(base.with_suffix(".meta.json").read_text())
        stdout = base.with_suffix(".stdout.jsonl")
        match = re.search(rb'"thread_id":"([^"]+)"', stdout.read_bytes())
        rollout = base.with_suffix(".rollout.jsonl")
        if rollout.exists() and match:
            day = '"$CODEX_HOME/sessions/2026/11/24"'
            lines.append(f"/bin/mkdir -p {day} && /bin/cp {shlex.quote(str(rollout))} "
                         f'{day}/rollout-2026-11-24T18-03-38-{match[1].decode()}.jsonl')
        stderr_file = tmp / f"{script.name}.stderr"
        stderr_file.write_bytes(base.with_suffix(".stderr.txt").read_bytes() + stderr_extra)
        lines += [f"/bin/cat {shlex.quote(str(stdout))}", f"/bin/cat {shlex.quote(str(stderr_file))} >&2",
                  f"exit {meta['exit_code'] if meta['exit_code'] is not None else 0}"]
    lines.append(body)
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return script


def clock() -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: datetime(2026, 4, 19, tzinfo=UTC) + timedelta(seconds=next(ticks))


def ids() -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"id-{next(counter)}"


def run(tmp: Path, exe: Path | str, policy: str, **kw: Any) -> LaneResult:
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    request = LaneRequest(prompt="Reply only with OK", cwd=work, policy=policy,  # type: ignore[arg-type]
                          codex_home=tmp / "home" / ".codex", codex_path=str(exe), api_key=KEY, env={}, **kw)
    return run_lane(request, clock=clock(), new_id=ids())


def cli_main(argv: list[str]) -> int:
    """The ``lane`` subcommand as ``codex-matrix`` dispatches it, without importing the other subcommands."""
    parser = argparse.ArgumentParser(prog="codex-matrix")
    lane_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def assert_clean_transcript(result: LaneResult) -> None:
    read = read_transcript(to_jsonl(result.transcript))
    assert read.dropped == [] and len(read.kept) == len(result.transcript)


@pytest.mark.parametrize("build", MODERN)
def test_replayed_persistent_run_is_hydrated(tmp_path: Path, build: str) -> None:
    result = run(tmp_path, replay(tmp_path, build, "ok-persistent"), "persistent")
    summary = result.summary()
    assert summary["thread_status"] == "completed" and summary["history_completeness"] == "hydrated"
    assert summary["usage_authority"] == "live-turn-completed" and summary["final_text"] == "OK"
    assert summary["usage"]["input_tokens"] == 11 and summary["usage"]["total_tokens"] == 18
    assert summary["executable"]["version"] == build and summary["executable"]["source"] == "explicit"
    assert summary["credential_source"] == "explicit-api-key" and summary["capability_profile"] == "headless-limited"
    assert summary["warnings_by_source"]["history"] == []
    assert result.transcript[-1]["codexNativeHistoryCompleteness"] == "hydrated"
    assert_clean_transcript(result)


@pytest.mark.parametrize("build", ("0.117.0", "0.169.0"))
def test_replayed_ephemeral_run_is_live_only(tmp_path: Path, build: str) -> None:
    result = run(tmp_path, replay(tmp_path, build, "ok-ephemeral"), "ephemeral")
    summary = result.summary()
    assert (summary["thread_status"], summary["history_completeness"]) == ("completed", "live-only")
    assert result.hydration is None and summary["warnings_by_source"]["history"] == []
    assert_clean_transcript(result)


def test_backfill_warning_is_history_in_summary_and_rows(tmp_path: Path) -> None:
    line = (b"2026-11-24T17:58:49.625863Z  WARN codex_exec: thread/read failed while backfilling turn items for "
            b"turn completion: thread/read: thread/read failed: ephemeral threads do not support includeTurns\n")
    result = run(tmp_path, replay(tmp_path, "0.117.0", "ok-ephemeral", stderr_extra=line), "ephemeral")
    (history,) = result.summary()["warnings_by_source"]["history"]
    assert "ephemeral threads do not support includeTurns" in history
    rows = [r for r in result.transcript if r.get("codexNativeWarningSource") == "history"]
    assert len(rows) == 1 and rows[0]["subtype"] == "codex_native_warning"


@pytest.mark.parametrize("build", ("0.20.0", "0.42.0"))
def test_replayed_legacy_run(tmp_path: Path, build: str) -> None:
    result = run(tmp_path, replay(tmp_path, build, "ok-persistent"), "persistent")
    summary = result.summary()
    assert summary["protocol"] == "legacy" and summary["thread_status"] == "completed"
    assert summary["usage_authority"] == "none" and summary["history_completeness"] == "explicit-hydration-required"
    assert any("no thread id" in w for w in summary["warnings_by_source"]["history"])
    assert_clean_transcript(result)


@pytest.mark.parametrize("build", ("0.44.0", "0.169.0"))
def test_replayed_unauthorized_run(tmp_path: Path, build: str) -> None:
    result = run(tmp_path, replay(tmp_path, build, "unauthorized-persistent"), "persistent")
    summary = result.summary()
    assert (summary["thread_status"], summary["exit_code"], summary["usage_authority"]) == ("failed", 1, "none")
    assert summary["history_completeness"] == "explicit-hydration-required"
    assert any("thread failed" in w for w in summary["warnings_by_source"]["history"])
    assert_clean_transcript(result)


def test_ephemeral_refused_by_build_without_flag(tmp_path: Path) -> None:
    result = run(tmp_path, replay(tmp_path, "0.98.0", "ok-persistent"), "ephemeral")
    assert result.refused is not None and "--ephemeral" in result.refused and result.seam is None
    summary = result.summary()
    assert (summary["thread_status"], summary["history_completeness"]) == ("failed", "live-only")
    assert summary["warnings_by_source"]["process"] == [f"run refused: {result.refused}"]
    assert result.transcript[-1]["codexNativeThreadStatus"] == "failed"
    assert_clean_transcript(result)


def test_missing_executable_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, tmp_path / "nope" / "codex", "persistent")
    assert result.refused is not None and "not found" in result.refused and result.executable is None
    assert result.summary()["executable"] is None
    assert_clean_transcript(result)


def test_timeout_is_interrupted(tmp_path: Path) -> None:
    script = replay(tmp_path, "0.169.0", None, body='echo \'{"type":"thread.started","thread_id":"t-1"}\'\n'
                                                    "exec /bin/sleep 30")
    result = run(tmp_path, script, "persistent", timeout_s=0.2)
    summary = result.summary()
    assert summary["timed_out"] is True and summary["thread_status"] == "interrupted"
    assert summary["thread_id"] == "t-1" and summary["final_text"] is None
    assert result.transcript[-1]["codexNativeThreadStatus"] == "interrupted"
    assert_clean_transcript(result)


def test_key_echoed_by_the_child_never_reaches_results(tmp_path: Path) -> None:
    script = replay(tmp_path, "0.169.0", "ok-ephemeral")
    script.write_text(script.read_text().replace("exit 0\n\n", 'echo "auth failed for $CODEX_API_KEY" >&2\nexit 0\n'))
    result = run(tmp_path, script, "ephemeral")
    assert any("auth failed for ***" in w for w in result.summary()["warnings_by_source"]["process"])
    assert KEY not in json.dumps(result.summary()) and KEY.encode() not in to_jsonl(result.transcript)
    assert KEY not in repr(result.request)


def test_ephemeral_run_that_persisted_is_flagged(tmp_path: Path) -> None:
    # a build that ignores --ephemeral: the replay of a persistent recording writes its rollout anyway
    script = replay(tmp_path, "0.117.0", "ok-persistent")
    result = run(tmp_path, script, "ephemeral")
    (history,) = result.summary()["warnings_by_source"]["history"]
    assert "did not honour --ephemeral" in history
    assert result.authority.history_completeness == "live-only"


def test_run_is_deterministic_given_clock_and_ids(tmp_path: Path) -> None:
    script = replay(tmp_path, "0.169.0", "tool-ephemeral")
    first, second = run(tmp_path, script, "ephemeral"), run(tmp_path, script, "ephemeral")
    assert to_jsonl(first.transcript) == to_jsonl(second.transcript)


# -- CLI -------------------------------------------------------------------------------------------


def test_cli_project_garbage_and_read(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\x00\xff binary junk\n{\"type\":\"turn.sta" + b"\n" +
                       (FIXTURES / "codex-0.20.0" / "ok-persistent.stdout.jsonl").read_bytes() + b'{"trunc')
    assert cli_main(["lane", "project", str(events), "--policy", "ephemeral"]) == 0
    out = capsysbinary.readouterr().out
    read = read_transcript(out)
    assert read.dropped == [] and len(read.kept) > 4
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(out)
    assert cli_main(["lane", "read", str(transcript), "--json"]) == 0
    assert json.loads(capsysbinary.readouterr().out)["dropped"] == []
    transcript.write_bytes(out + b"[]\n")
    assert cli_main(["lane", "read", str(transcript)]) == 1
    assert b"not a JSON object" in capsysbinary.readouterr().out


def test_cli_project_from_stdin(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    data = (FIXTURES / "codex-0.169.0" / "tool-ephemeral.stdout.jsonl").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert cli_main(["lane", "project", "-", "--policy", "ephemeral", "--prompt", "hi"]) == 0
    rows = read_transcript(capsysbinary.readouterr().out).kept
    assert rows[1]["message"]["content"] == "hi" and rows[-1]["codexNativeThreadStatus"] == "completed"
