"""The Phase 0 sign-off, reproduced on the host with the real 0.117.0 build from the build cache.

Same build, prompt and policies as ../shared/reference/000_e68f12ca75de8d80.md: ephemeral must stay
`live-only`, persistent must read its rollout back (`hydrated`), usage authority `live-turn-completed`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.binaries import fetch
from harness.cli.main import main
from harness.fakeapi import FakeResponsesAPI, write_codex_config
from harness.lane.projection import to_jsonl
from harness.lane.reader import read_transcript
from harness.lane.session import LaneRequest, run_lane

KEY = "sk-signoff-test-key-0123456789"


@pytest.fixture(scope="module")
def codex_0_117() -> Path:
    return fetch("0.117.0").binary


@pytest.mark.parametrize(("policy", "history"), [("ephemeral", "live-only"), ("persistent", "hydrated")])
def test_sign_off_truths(tmp_path: Path, codex_0_117: Path, policy: str, history: str) -> None:
    codex_home = tmp_path / "home" / ".codex"
    (tmp_path / "work").mkdir()
    with FakeResponsesAPI(valid_keys=[KEY]) as api:
        write_codex_config(codex_home, api.provider_url("ok", "signoff"))
        result = run_lane(LaneRequest(prompt="Reply only with OK", cwd=tmp_path / "work", policy=policy,  # type: ignore[arg-type]
                                      codex_home=codex_home, codex_path=str(codex_0_117), api_key=KEY, env={},
                                      timeout_s=60))
        journal = api.journal("signoff")
    summary = result.summary()
    assert summary["thread_status"] == "completed", summary
    assert summary["history_completeness"] == history
    assert summary["usage_authority"] == "live-turn-completed"
    assert summary["executable"]["version_line"] == "codex-cli 0.117.0"
    assert summary["credential_source"] == "explicit-api-key"
    assert summary["final_text"] == "OK"
    assert [e["credential"] for e in journal] == ["valid"]
    read = read_transcript(to_jsonl(result.transcript))
    assert read.dropped == [] and len(read.kept) == len(result.transcript)
    assert KEY not in json.dumps(summary) + to_jsonl(result.transcript).decode()


def test_cli_lane_run_json(tmp_path: Path, codex_0_117: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.jsonl"
    code = main(["lane", "run", "--prompt", "Reply only with OK", "--ephemeral", "--fake-api", "ok",
                 "--codex", str(codex_0_117), "--cwd", str(tmp_path), "--out", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["history_completeness"] == "live-only" and summary["temp_dir_kept"] is None
    # the temporary CODEX_HOME is outside /tmp, so codex sets up its helpers without a warning
    assert summary["warnings_by_source"] == {"process": [], "history": []}
    assert read_transcript(out.read_bytes()).dropped == []
