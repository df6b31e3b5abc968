"""The Python lane behind the adapter protocol: recorded builds replayed through run_adapter.

The replay executables (tests/unit/test_session.py) answer ``--version``/``exec --help`` like a recorded
build and print its recorded stream, so the whole path is real: the runner starts the adapter in its own
process group, the adapter drives run_lane, the result crosses stdout and is parsed strictly.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.lanes import python_adapter
from harness.lanes.protocol import AdapterRequest, AdapterResult, parse_result
from harness.lanes.runner import run_adapter
from tests.unit.test_session import KEY, replay

ARGV = [sys.executable, "-m", "harness.lanes.python_adapter"]


def request(tmp: Path, exe: Path | str, policy: str | None, **kw: Any) -> AdapterRequest:
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    fields: dict[str, Any] = {
        "prompt": "Reply only with OK", "cwd": str(work), "codex_path": str(exe),
        "codex_home": str(tmp / "home" / ".codex"), "home": str(tmp / "home"), "base_url": "http://127.0.0.1:9/v1",
        "timeout_s": 10, "policy": policy, "env": {"CODEX_API_KEY": KEY},
    }
    fields.update(kw)
    return AdapterRequest(**fields)


def through_runner(req: AdapterRequest, timeout_s: float = 30) -> AdapterResult:
    return run_adapter(ARGV, req, timeout_s, lane="python")


@pytest.mark.parametrize(("build", "policy"), [("0.117.0", "ephemeral"), ("0.169.0", "persistent"),
                                               ("0.44.0", "persistent")])
def test_a_replayed_ok_run_is_ok_with_events_and_rows(tmp_path: Path, build: str, policy: str) -> None:
    result = through_runner(request(tmp_path, replay(tmp_path, build, f"ok-{policy}"), policy))
    assert result.outcome == "ok", result.describe()
    assert result.lane == python_adapter.LANE and result.final_text == "OK"
    assert result.events[0] == "thread.started" and result.events[-1] == "turn.completed"
    assert result.thread_id and result.usage is not None and result.usage["input_tokens"] == 11
    assert result.exit_code == 0 and result.transcript and result.transcript[-1]["codexNativeThreadStatus"]
    assert result.extra["summary"]["completion_policy"] == policy


def test_an_unauthorized_run_is_exit_nonzero_and_names_the_failed_turn(tmp_path: Path) -> None:
    result = through_runner(request(tmp_path, replay(tmp_path, "0.117.0", "unauthorized-ephemeral"), "ephemeral"))
    assert result.outcome == "exit-nonzero", result.describe()
    assert result.exit_code == 1 and (result.error or "").startswith("turn.failed")
    assert "turn.failed" in result.events


def test_a_legacy_stream_reports_its_message_types(tmp_path: Path) -> None:
    result = through_runner(request(tmp_path, replay(tmp_path, "0.20.0", "ok-persistent"), "persistent"))
    assert result.outcome == "ok" and "task_started" in result.events


def test_a_build_without_ephemeral_is_a_reported_refusal(tmp_path: Path) -> None:
    result = through_runner(request(tmp_path, replay(tmp_path, "0.98.0", None), "ephemeral"))
    assert result.outcome == "exit-nonzero" and (result.error or "").startswith("refused: ephemeral run refused")
    assert result.events == () and result.transcript  # a refusal still projects rows that parse


def test_a_missing_codex_is_a_reported_refusal(tmp_path: Path) -> None:
    result = through_runner(request(tmp_path, tmp_path / "nope", "persistent"))
    assert result.outcome == "exit-nonzero" and "codex executable not found" in (result.error or "")


def test_a_codex_that_never_ends_is_a_hang_from_the_lane_itself(tmp_path: Path) -> None:
    started = "echo '{\"type\":\"thread.started\",\"thread_id\":\"t\"}'"
    exe = replay(tmp_path, "0.117.0", None, body=f"{started}; exec sleep 60")
    result = through_runner(request(tmp_path, exe, "ephemeral", timeout_s=1), timeout_s=20)
    assert result.outcome == "hang", result.describe()
    assert result.events == ("thread.started",) and result.adapter_exit_code == 0  # the lane reported it


def test_a_turn_without_an_answer_is_silent_empty(tmp_path: Path) -> None:
    exe = replay(tmp_path, "0.117.0", None, body="\n".join([
        "echo '{\"type\":\"thread.started\",\"thread_id\":\"t-1\"}'",
        "echo '{\"type\":\"turn.started\"}'",
        "echo '{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":1,\"cached_input_tokens\":0,"
        "\"output_tokens\":0}}'"]))
    result = through_runner(request(tmp_path, exe, "ephemeral"))
    assert result.outcome == "silent-empty" and result.final_text is None and result.error is None


def test_the_key_never_reaches_the_result(tmp_path: Path) -> None:
    exe = replay(tmp_path, "0.117.0", "unauthorized-ephemeral", stderr_extra=f"key was {KEY}\n".encode())
    result = through_runner(request(tmp_path, exe, "ephemeral"))
    assert KEY not in result.dumps() and "key was" in (result.stderr or "")


@pytest.mark.parametrize(("change", "reason"), [
    ({"policy": None}, "bad request: the python lane needs a policy"),
    ({"options": {"mode": "documented"}}, "bad request: option 'mode' is not one the python lane takes"),
    ({"options": {"config_overrides": "sandbox_mode=x"}}, "bad request: option 'config_overrides' must be an array"),
])
def test_a_bad_request_is_a_crash_with_a_reason(tmp_path: Path, change: dict[str, Any], reason: str) -> None:
    result = through_runner(request(tmp_path, tmp_path / "nope", **{"policy": "persistent", **change}))
    assert result.outcome == "crash" and (result.error or "").startswith(reason), result.error


def test_an_exception_in_the_lane_is_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def boom(_: object) -> None:
        raise RuntimeError("mapper exploded\nsecond line")

    monkeypatch.setattr(python_adapter, "run_lane", boom)
    out = io.StringIO()
    assert python_adapter.main(io.StringIO(request(tmp_path, "codex", "ephemeral").dumps()), out, {}) == 0
    result = parse_result(out.getvalue())
    assert result.outcome == "crash" and result.error == "RuntimeError: mapper exploded"
    assert "Traceback" in capsys.readouterr().err


def test_options_reach_the_seam(tmp_path: Path) -> None:
    req = request(tmp_path, "codex", "persistent",
                  options={"config_overrides": ['sandbox_mode="read-only"'], "extra_env": {"RUST_LOG": "warn"}})
    lane = python_adapter.lane_request(req, {"PATH": "/bin"})
    assert lane.config_overrides == ('sandbox_mode="read-only"',) and lane.extra_env == {"RUST_LOG": "warn"}
    assert lane.env is not None and lane.env["CODEX_API_KEY"] == KEY and lane.env["PATH"] == "/bin"
