"""The 30-line lane in docs/examples (a user's own consumer, in Node) runs through the protocol, and its
failures read as clearly as ours: stub codex executables play each build behaviour."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.lanes.protocol import AdapterRequest, AdapterResult
from harness.lanes.runner import run_adapter

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "minimal-lane.mjs"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
OK = ['{"type":"thread.started","thread_id":"t-9"}', '{"type":"turn.started"}',
      '{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"OK"}}',
      '{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":1}}']


def run(tmp: Path, body: str, timeout_s: float = 10) -> AdapterResult:
    codex = tmp / "codex"
    codex.write_text("#!/bin/sh\n" + body + "\n")
    codex.chmod(0o755)
    request = AdapterRequest(prompt="Reply only with OK", cwd=str(tmp), codex_path=str(codex),
                             codex_home=str(tmp / ".codex"), home=str(tmp), base_url="http://127.0.0.1:9/v1",
                             timeout_s=timeout_s, env={"CODEX_API_KEY": "sk-example"})
    return run_adapter(["node", str(EXAMPLE)], request, timeout_s + 5, lane="minimal",
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def test_the_example_is_about_30_lines() -> None:
    assert len(EXAMPLE.read_text().splitlines()) <= 32


def test_an_answered_turn_is_ok(tmp_path: Path) -> None:
    result = run(tmp_path, "\n".join(f"echo '{line}'" for line in OK))
    assert (result.outcome, result.final_text, result.thread_id) == ("ok", "OK", "t-9"), result.describe()
    assert result.events == ("thread.started", "turn.started", "item.completed", "turn.completed")


def test_a_failing_build_is_exit_nonzero_with_its_stderr(tmp_path: Path) -> None:
    result = run(tmp_path, "echo 'error: unexpected argument --json found' >&2; exit 2")
    assert result.outcome == "exit-nonzero"
    assert result.error == "codex exited 2: error: unexpected argument --json found"


def test_a_non_json_line_breaks_the_example_and_the_crash_says_why(tmp_path: Path) -> None:
    result = run(tmp_path, "echo 'Reading additional input from stdin...'")
    assert result.outcome == "crash"
    reason = "adapter exited 1 without a result: SyntaxError: Unexpected token"
    assert (result.error or "").startswith(reason), result.error


def test_a_codex_that_never_ends_is_a_hang(tmp_path: Path) -> None:
    result = run(tmp_path, "exec sleep 30", timeout_s=1)
    assert result.outcome == "hang" and "codex killed by SIGKILL" in (result.error or "")


def test_the_readme_shows_the_example_lane_as_it_is() -> None:
    """The README's user lane is the file the tests run, byte for byte (no copy that drifts)."""
    readme = (EXAMPLE.parents[2] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("### A lane of your own", 1)[1].split("```js\n", 1)[1].split("\n```", 1)[0]
    assert shown == EXAMPLE.read_text(encoding="utf-8").rstrip("\n")
    assert len(shown.splitlines()) <= 32
