"""A reply that mentions a secret keeps its meaning through the lane; the secret itself does not survive.

Issue 27, cause 8: the lane masked codex's raw stdout before parsing it, and a mask next to an escaped
quote ate the backslash. A valid line whose agent text is ``Set it with: echo "api_key=abcd"`` was
then dropped as a non-JSON stdout line and the run reported ``completed`` with no final text.

The streams here are the recordings of codex-cli 0.169.0 (``tests/fixtures/codex-0.169.0``, recorded
by ``tests/fixtures/record.py`` against the fake API) with the agent text or the command replaced by
a hostile one, JSON-encoded the way codex encodes it. They run through the real seam runner (a
replay executable), the mapper, the authority rules, hydration and the projection; the rows are read
back with the strict reader in ``harness/lane/reader.py``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.lane.mapper import map_stream
from harness.lane.projection import to_jsonl
from harness.lane.reader import read_transcript
from harness.lane.session import LaneRequest, LaneResult, run_lane
from harness.redact import Redactor
from harness.suite.cellrun import Outcome, _save
from harness.suite.protocol import CellSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codex-0.169.0"
BUILD = "0.169.0"
KEY = "sk-lane-secret-test-key-0123456789"
JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEyMyIsImV4cCI6MTc5NTU0MzQyM30."
       "c2lnbmF0dXJlLWJ5dGVzLWhlcmU")

#: (agent text codex printed, what the lane must report, the secret that must be gone)
REPLIES = [
    ('Set it with: echo "api_key=abcd"', 'Set it with: echo "api_key=***"', "=abcd"),  # not "abcd": a uuid may hold it
    ('Add export OPENAI_API_KEY="hunter2-topsecret" to ~/.profile',
     'Add export OPENAI_API_KEY="***" to ~/.profile', "hunter2-topsecret"),
    (f"Send the header Authorization: {JWT} and retry.", "Send the header Authorization: *** and retry.", JWT),
    (f'Your key is "{KEY}"; keep it out of git.', 'Your key is "***"; keep it out of git.', KEY),
]


def with_text(case: str, old: str, new: str) -> bytes:
    """The recorded stdout of ``case`` with the JSON string ``old`` replaced by ``new``, encoded as codex does."""
    data = (FIXTURES / f"{case}.stdout.jsonl").read_text(encoding="utf-8")
    encoded = json.dumps(new, ensure_ascii=False)
    assert json.dumps(old) in data
    return data.replace(json.dumps(old), encoded).encode("utf-8")


def replay(tmp: Path, stdout: bytes, *, rollout: bytes | None = None, thread_id: str = "") -> Path:
    """A codex that answers --version and exec --help as 0.169.0 did and prints ``stdout`` for a run."""
    stream = tmp / "stream.jsonl"
    stream.write_bytes(stdout)
    help_text = shlex.quote(str(FIXTURES / "exec-help.txt"))
    lines = ["#!/bin/sh",
             f'if [ "$1" = "--version" ]; then echo "codex-cli {BUILD}"; exit 0; fi',
             f'if [ "$1" = "exec" ] && [ "$2" = "--help" ]; then /bin/cat {help_text}; exit 0; fi']
    if rollout is not None:
        saved = tmp / "rollout.jsonl"
        saved.write_bytes(rollout)
        day = '"$CODEX_HOME/sessions/2026/11/24"'
        lines.append(f"/bin/mkdir -p {day} && /bin/cp {shlex.quote(str(saved))} "
                     f"{day}/rollout-2026-11-24T18-03-38-{thread_id}.jsonl")
    lines += [f"/bin/cat {shlex.quote(str(stream))}", "exit 0"]
    script = tmp / "codex"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return script


def run(tmp: Path, exe: Path, policy: str = "ephemeral") -> LaneResult:
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    request = LaneRequest(prompt="How do I set my key?", cwd=work, policy=policy,  # type: ignore[arg-type]
                          codex_home=tmp / "home" / ".codex", codex_path=str(exe), api_key=KEY, env={})
    return run_lane(request)


def everything_kept(result: LaneResult) -> str:
    """What the run keeps, as the artifacts would hold it."""
    return json.dumps(result.summary()) + to_jsonl(result.transcript).decode("utf-8") + json.dumps(
        [e.to_dict() for e in result.mapped.events])


def assert_rows_parse(result: LaneResult) -> list[dict[str, Any]]:
    read = read_transcript(to_jsonl(result.transcript))
    assert read.dropped == [] and len(read.kept) == len(result.transcript)
    return read.kept


def assistant_texts(rows: list[dict[str, Any]]) -> list[str]:
    return [block["text"] for row in rows if row["type"] == "assistant"
            for block in row["message"]["content"] if block.get("type") == "text"]


def test_the_hostile_stream_is_valid_json_as_codex_printed_it() -> None:
    """The premise: codex's line is valid JSON, and the mapper alone reads the text whole."""
    stdout = with_text("ok-ephemeral", "OK", REPLIES[0][0])
    mapped = map_stream(stdout)
    assert [e.data["text"] for e in mapped.events if e.kind == "assistant_text"] == [REPLIES[0][0]]
    assert not [e for e in mapped.events if e.data.get("origin") == "stdout"]


@pytest.mark.parametrize(("said", "reported", "secret"), REPLIES, ids=["api_key", "OPENAI_API_KEY", "jwt", "key"])
def test_reply_with_a_secret_keeps_its_meaning_through_the_lane(tmp_path: Path, said: str, reported: str,
                                                                 secret: str) -> None:
    result = run(tmp_path, replay(tmp_path, with_text("ok-ephemeral", "OK", said)))
    summary = result.summary()
    assert summary["thread_status"] == "completed"
    assert summary["final_text"] == reported
    assert summary["warnings_by_source"]["process"] == [
        "Model metadata for `gpt-fake` not found. Defaulting to fallback metadata; this can degrade performance "
        "and cause issues."]  # the recording's own warning, and no "non-JSON stdout line"
    rows = assert_rows_parse(result)
    assert assistant_texts(rows) == [reported]
    assert secret not in everything_kept(result)


def test_command_with_a_key_keeps_its_tool_rows(tmp_path: Path) -> None:
    command = "/bin/bash -lc 'echo \"OPENAI_API_KEY=$KEY\" >> .env'"
    masked = "/bin/bash -lc 'echo \"OPENAI_API_KEY=***\" >> .env'"
    stdout = with_text("tool-ephemeral", "/bin/bash -lc 'echo matrix-tool-ok'", command)
    result = run(tmp_path, replay(tmp_path, stdout))
    summary = result.summary()
    assert summary["thread_status"] == "completed" and summary["final_text"] == "OK"
    rows = assert_rows_parse(result)
    uses = [block for row in rows if row["type"] == "assistant" for block in row["message"]["content"]
            if block.get("type") == "tool_use"]
    results = [block for row in rows if row["type"] == "user" and isinstance(row["message"]["content"], list)
               for block in row["message"]["content"] if block.get("type") == "tool_result"]
    assert [u["input"]["command"] for u in uses] == [masked]
    assert [r["tool_use_id"] for r in results] == [u["id"] for u in uses]
    assert "$KEY" not in everything_kept(result)


def test_persistent_run_is_hydrated_when_the_reply_holds_a_secret(tmp_path: Path) -> None:
    """Hydration compares what codex printed with what it persisted, before any mask: they agree."""
    said, reported, secret = REPLIES[0]
    stdout = with_text("ok-persistent", "OK", said)
    rollout = (FIXTURES / "ok-persistent.rollout.jsonl").read_text(encoding="utf-8").replace(
        '"OK"', json.dumps(said)).encode("utf-8")
    thread_id = json.loads(stdout.splitlines()[0])["thread_id"]
    result = run(tmp_path, replay(tmp_path, stdout, rollout=rollout, thread_id=thread_id), "persistent")
    summary = result.summary()
    assert (summary["thread_status"], summary["history_completeness"]) == ("completed", "hydrated")
    assert summary["final_text"] == reported and summary["warnings_by_source"]["history"] == []
    assert_rows_parse(result)
    assert secret not in everything_kept(result)


def test_non_json_stdout_lines_are_still_masked_as_text(tmp_path: Path) -> None:
    stdout = (FIXTURES / "ok-ephemeral.stdout.jsonl").read_bytes() + f"debug: api_key=abcd token {KEY}\n".encode()
    result = run(tmp_path, replay(tmp_path, stdout))
    assert "non-JSON stdout line 6: debug: api_key=*** token ***" in result.summary()["warnings_by_source"]["process"]
    assert "=abcd" not in everything_kept(result) and KEY not in everything_kept(result)


def test_lane_run_command_reports_the_final_text(tmp_path: Path) -> None:
    """Done-when of issue 27: ``codex-matrix lane run`` on a codex printing ``Set it with: echo "api_key=abcd"``.

    The real command line in a child process (``python -m harness`` is ``codex-matrix``), no Docker:
    the codex is a stub that answers like codex-cli 0.169.0 and prints a recorded thread-events stream.
    """
    said, reported, _ = REPLIES[0]
    exe = replay(tmp_path, with_text("ok-ephemeral", "OK", said))
    home, work, transcript = tmp_path / "home" / ".codex", tmp_path / "work", tmp_path / "transcript.jsonl"
    home.mkdir(parents=True)
    work.mkdir()
    env = {**os.environ, "LANE_TEST_KEY": KEY}
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "lane", "run", "--prompt", "How do I set my key?", "--ephemeral",
         "--codex", str(exe), "--codex-home", str(home), "--api-key-env", "LANE_TEST_KEY", "--cwd", str(work),
         "--out", str(transcript), "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["thread_status"] == "completed" and summary["final_text"] == reported
    read = read_transcript(transcript.read_bytes())
    assert read.dropped == [] and assistant_texts(read.kept) == [reported]
    assert "=abcd" not in proc.stdout + proc.stderr + transcript.read_text(encoding="utf-8")


def test_suite_artifacts_of_a_hostile_run_stay_json(tmp_path: Path) -> None:
    """What the contract suite saves per scenario (stdout.jsonl, transcript.jsonl, summary.json, …): every
    JSON file and JSON line parses, the reply keeps its words, the secret is in none of them."""
    said, reported, secret = REPLIES[0]
    stdout = with_text("ok-ephemeral", "OK", said) + f'{{"type":"note","text":"key={KEY}"}}\n'.encode()
    result = run(tmp_path, replay(tmp_path, stdout))
    transcript = "".join(json.dumps(row) + "\n" for row in result.transcript)
    artifacts = tmp_path / "artifacts"
    outcome = Outcome(cell=CellSpec(BUILD, "codex-api-key", "ephemeral", ("ok",)), scenario="ok", result=result,
                      journal=[{"input": said}], session_files=[], read=read_transcript(transcript),
                      resolver={"why": said}, credential_setup="env", wall_s=0.1, timeout_s=10.0, artifacts=artifacts)
    _save(outcome, transcript, Redactor([KEY]))
    files = {p.name: p.read_text(encoding="utf-8") for p in artifacts.iterdir()}
    for name, content in files.items():
        assert secret not in content and KEY not in content, name
        if name.endswith(".json"):
            json.loads(content)
    lines = [json.loads(line) for line in files["stdout.jsonl"].splitlines()]
    assert [o["item"]["text"] for o in lines if o.get("item", {}).get("type") == "agent_message"] == [reported]
    assert lines[-1] == {"type": "note", "text": "key=***"}
    assert read_transcript(files["transcript.jsonl"]).dropped == []
    assert json.loads(files["summary.json"])["final_text"] == reported
    assert json.loads(files["journal.json"]) == [{"input": reported}]
