"""The harness variants: what each does to the lane request, and the wrapper in front of codex."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.lane.session import LaneRequest
from harness.suite.variants import (
    DECOY_VERSION_LINE,
    TAMPERED_CACHED_DELTA,
    TAMPERED_TEXT,
    VARIANTS,
    apply_variant,
    injected_lines,
)

FAKE_CODEX = """#!/bin/sh
case "$1" in --version) echo "codex-cli 9.9.9"; exit 0;; esac
echo '{"type":"thread.started","thread_id":"t"}'
echo '{"type":"turn.completed","usage":{"input_tokens":11,"cached_input_tokens":3,"output_tokens":7}}'
exit ${FAKE_EXIT:-0}
"""


def real(tmp_path: Path) -> str:
    path = tmp_path / "real-codex"
    path.write_text(FAKE_CODEX)
    path.chmod(0o755)
    return str(path)


def req(tmp_path: Path) -> LaneRequest:
    return LaneRequest(prompt="p", cwd=tmp_path, policy="persistent", codex_home=tmp_path / "home",
                       env={"PATH": "/usr/bin:/bin"})


def test_no_variant_leaves_the_request_alone(tmp_path: Path) -> None:
    request = req(tmp_path)
    assert apply_variant(None, request, tmp_path, None) == (request, None)
    with pytest.raises(RuntimeError, match="needs the real codex"):
        apply_variant("wrap-exit", request, tmp_path, None)


def test_wrapper_passes_through_then_exits_with_its_own_code(tmp_path: Path) -> None:
    request, setup = apply_variant("wrap-exit", req(tmp_path), tmp_path / "w", real(tmp_path))
    assert setup is not None and request.codex_path == setup.executable_path and setup.wrapper_exit == 3
    version = subprocess.run([setup.executable_path, "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "codex-cli 9.9.9"
    run = subprocess.run([setup.executable_path, "exec", "--json"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 3 and '"turn.completed"' in run.stdout


def test_wrapper_injects_before_turn_completed(tmp_path: Path) -> None:
    _, setup = apply_variant("wrap-inject", req(tmp_path), tmp_path / "w", real(tmp_path))
    assert setup is not None
    run = subprocess.run([setup.executable_path, "exec"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    objects = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["type"] for o in objects] == ["thread.started", *(o["type"] for o in injected_lines()),
                                            "turn.completed"]
    assert run.returncode == 0


def test_wrapper_tampers_with_the_rollout(tmp_path: Path) -> None:
    _, setup = apply_variant("wrap-tamper", req(tmp_path), tmp_path / "w", real(tmp_path))
    assert setup is not None and setup.tampered
    rollout = tmp_path / "home" / "sessions" / "2026" / "rollout-x.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text('{"type":"session_meta","payload":{}}\n')
    subprocess.run([setup.executable_path, "exec"], capture_output=True, stdin=subprocess.DEVNULL, check=True,
                   env={"CODEX_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    lines = [json.loads(line) for line in rollout.read_text().splitlines()]
    assert lines[-2]["payload"] == {"type": "agent_message", "message": TAMPERED_TEXT}
    total = lines[-1]["payload"]["info"]["total_token_usage"]
    assert total["cached_input_tokens"] == 3 + TAMPERED_CACHED_DELTA and total["input_tokens"] == 11


@pytest.mark.parametrize("name", ["discover-env", "discover-explicit"])
def test_discovery_puts_a_decoy_first_on_path(tmp_path: Path, name: str) -> None:
    request, setup = apply_variant(name, req(tmp_path), tmp_path / "w", real(tmp_path))
    assert setup is not None and setup.executable_path is not None
    assert Path(setup.executable_path).resolve() == Path(real(tmp_path)).resolve()
    env = dict(request.env or {})
    decoy = Path(env["PATH"].split(":")[0]) / "codex"
    version = subprocess.run([str(decoy), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == DECOY_VERSION_LINE
    if name == "discover-env":
        assert env["CODEX_CLI_PATH"] == setup.executable_path and request.codex_path is None
    else:
        assert request.codex_path == setup.executable_path and env["CODEX_CLI_PATH"] == str(decoy)


def test_log_warn_sets_rust_log_for_codex_only(tmp_path: Path) -> None:
    request, setup = apply_variant("log-warn", req(tmp_path), tmp_path, real(tmp_path))
    assert request.extra_env == {"RUST_LOG": "warn"} and setup is not None and setup.child_env == {"RUST_LOG": "warn"}
    assert set(VARIANTS) >= {"wrap-exit", "wrap-exit-zero", "wrap-inject", "wrap-tamper", "log-warn"}


def test_wrap_background_leaves_a_child_in_the_wrappers_group(tmp_path: Path) -> None:
    import os
    import signal

    from harness.suite.variants import CODEX_EXITED_AT, LEFTOVER_PID

    work = tmp_path / "w"
    _, setup = apply_variant("wrap-background", req(tmp_path), work, real(tmp_path))
    assert setup is not None and setup.executable_source == "explicit" and setup.work == str(work)
    version = subprocess.run([setup.executable_path, "--version"], capture_output=True, text=True, timeout=10)
    assert version.stdout.strip() == "codex-cli 9.9.9" and not (work / LEFTOVER_PID).exists()
    proc = subprocess.Popen([setup.executable_path, "exec", "--json"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        assert proc.wait(timeout=10) == 0
        child = int((work / LEFTOVER_PID).read_text())
        assert os.getpgid(child) == proc.pid, "the leftover is not in the wrapper's (codex's) group"
        assert float((work / CODEX_EXITED_AT).read_text()) > 0
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def test_credential_worlds_set_what_the_lane_must_resolve(tmp_path: Path) -> None:
    from harness.lane.credentials import resolve_credential
    from harness.suite.credentials import INVALID_KEY

    base = LaneRequest(prompt="p", cwd=tmp_path, policy="persistent", codex_home=tmp_path / "home",
                       env={"PATH": "/usr/bin:/bin", "CODEX_API_KEY": "sk-valid"})
    (tmp_path / "home").mkdir()
    both, setup = apply_variant("both-keys", base, tmp_path / "w", real(tmp_path))
    assert setup is not None and setup.credential == ("explicit-api-key", "CODEX_API_KEY", "valid")
    assert both.env is not None and both.env["OPENAI_API_KEY"] == INVALID_KEY
    got = resolve_credential(None, both.env, tmp_path / "home")
    assert (got.source, got.origin, got.key) == ("explicit-api-key", "CODEX_API_KEY", "sk-valid")
    blank, setup = apply_variant("blank-key", base, tmp_path / "w", real(tmp_path))
    assert setup is not None and setup.credential == ("auth-json", "auth.json", "valid")
    assert blank.env is not None and blank.env["CODEX_API_KEY"].strip() == ""
    assert json.loads((tmp_path / "home" / "auth.json").read_text()) == {"OPENAI_API_KEY": "sk-valid"}
    got = resolve_credential(None, blank.env, tmp_path / "home")
    assert (got.source, got.origin, got.key) == ("auth-json", "auth.json", None)


def test_discover_missing_names_nothing_and_puts_a_decoy_first(tmp_path: Path) -> None:
    from harness.lane.session import run_lane
    from harness.suite.variants import DECOY_RAN

    work = tmp_path / "w"
    request, setup = apply_variant("discover-missing", req(tmp_path), work, real(tmp_path))
    assert setup is not None and setup.missing_path is not None and not Path(setup.missing_path).exists()
    assert request.env is not None and request.env["CODEX_CLI_PATH"] == setup.missing_path
    assert request.env["PATH"].split(":")[0] == str(work / "decoy")
    result = run_lane(request)
    assert result.executable is None and result.seam is None
    assert result.refused is not None and setup.missing_path in result.refused
    assert result.authority.thread_status == "failed"
    assert not (work / "decoy" / DECOY_RAN).exists()
