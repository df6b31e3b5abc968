"""The @openai/codex-sdk adapter (Node) through run_adapter, with stub codex executables.

Two SDKs drive the stubs: a *fixture SDK* written here (the real SDK's contract in 40 lines: spawn
``codex exec --experimental-json`` with the prompt on stdin, one JSON.parse per stdout line, throw on a
non-zero exit) so the tests run offline, and the real SDK ``dist/`` of 0.163.0 and 0.114.0 when the SDK
cache holds them (``harness.lanes.sdk_cache``; skipped otherwise). Downloaded SDK code is never committed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from harness.lanes import sdk_cache
from harness.lanes.protocol import AdapterRequest, AdapterResult
from harness.lanes.runner import run_adapter

ADAPTER = Path(__file__).resolve().parents[2] / "harness" / "lanes" / "codex_sdk" / "adapter.mjs"
KEY = "sk-sdk-adapter-test-key"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

FIXTURE_SDK = r"""
import { spawn } from "child_process";
import readline from "readline";
class Thread {
  constructor(opts, topts) { this.opts = opts; this.topts = topts; this.id = null; }
  async runStreamed(input) { return { events: this.gen(input) }; }
  async *gen(input) {
    const args = ["exec", "--experimental-json", "--cd", this.topts.workingDirectory];
    const env = this.opts.env ? { ...this.opts.env } : { ...process.env };
    if (this.opts.baseUrl) args.push("--config", `openai_base_url=${JSON.stringify(this.opts.baseUrl)}`);
    if (this.opts.apiKey) env.CODEX_API_KEY = this.opts.apiKey;
    const child = spawn(this.opts.codexPathOverride, args, { env });
    child.stdin.write(input); child.stdin.end();
    const err = []; child.stderr.on("data", (d) => err.push(d));
    const exit = new Promise((r) => child.once("exit", (code) => r(code)));
    for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      let parsed;
      try { parsed = JSON.parse(line); } catch (e) { throw new Error(`Failed to parse item: ${line}`); }
      if (parsed.type === "thread.started") this.id = parsed.thread_id;
      yield parsed;
    }
    const code = await exit;
    if (code !== 0) throw new Error(`Codex Exec exited with code ${code}: ${Buffer.concat(err).toString()}`);
  }
}
export class Codex {
  constructor(opts = {}) { this.opts = opts; }
  startThread(topts = {}) { return new Thread(this.opts, topts); }
}
"""

STARTED = '{"type":"thread.started","thread_id":"t-1"}'
TURN = '{"type":"turn.started"}'
ANSWER = '{"type":"item.completed","item":{"id":"i0","type":"agent_message","text":"OK"}}'
DONE = '{"type":"turn.completed","usage":{"input_tokens":11,"cached_input_tokens":3,"output_tokens":7}}'
FAILED = '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}}'


def fixture_sdk(tmp: Path) -> Path:
    dist = tmp / "sdk" / "package" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.js").write_text(FIXTURE_SDK)
    (dist.parent / "package.json").write_text(json.dumps({"name": "@openai/codex-sdk", "version": "9.9.9",
                                                           "type": "module"}))
    return dist


def stub_codex(tmp: Path, body: str) -> Path:
    path = tmp / "bin" / "codex"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp}/argv.txt\nenv > {tmp}/env.txt\n"
                    f"cat > {tmp}/stdin.txt\n{body}\n")
    path.chmod(0o755)
    return path


def lines(*docs: str) -> str:
    return "\n".join(f"echo '{d}'" for d in docs)


def run(tmp: Path, body: str, *, dist: Path | None = None, mode: str = "documented", timeout_s: float = 10,
        **options: Any) -> AdapterResult:
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    request = AdapterRequest(prompt="Reply only with OK", cwd=str(work), codex_path=str(stub_codex(tmp, body)),
                             codex_home=str(tmp / "home" / ".codex"), home=str(tmp / "home"),
                             base_url="http://127.0.0.1:9/s/ok/t/v1", timeout_s=timeout_s,
                             env={"CODEX_API_KEY": KEY},
                             options={"sdk_dist": str(dist or fixture_sdk(tmp)), "mode": mode, **options})
    return run_adapter(["node", str(ADAPTER)], request, timeout_s + 10, lane="codex-sdk",
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOST_ONLY_SECRET": "leak"})


def test_an_answered_turn_is_ok_with_the_events_in_order(tmp_path: Path) -> None:
    result = run(tmp_path, lines(STARTED, TURN, ANSWER, DONE))
    assert result.outcome == "ok", result.describe()
    assert result.lane == "codex-sdk@9.9.9" and result.final_text == "OK" and result.thread_id == "t-1"
    assert result.events == ("thread.started", "turn.started", "item.completed", "turn.completed")
    assert result.usage == {"input_tokens": 11, "cached_input_tokens": 3, "output_tokens": 7}
    assert result.transcript is None and result.exit_code == 0
    assert (tmp_path / "stdin.txt").read_text() == "Reply only with OK"


def test_codex_gets_a_built_environment_only(tmp_path: Path) -> None:
    run(tmp_path, lines(STARTED, ANSWER, DONE))
    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines() if "=" in line)
    assert env["HOME"] == str(tmp_path / "home") and env["CODEX_HOME"] == str(tmp_path / "home" / ".codex")
    assert env["CODEX_API_KEY"] == KEY and env["PATH"]
    assert "HOST_ONLY_SECRET" not in env


def test_documented_mode_passes_the_base_url_and_provider_mode_does_not(tmp_path: Path) -> None:
    run(tmp_path, lines(STARTED, ANSWER, DONE))
    assert 'openai_base_url="http://127.0.0.1:9/s/ok/t/v1"' in (tmp_path / "argv.txt").read_text()
    other = tmp_path / "provider"
    other.mkdir()
    result = run(other, lines(STARTED, ANSWER, DONE), mode="provider")
    assert result.outcome == "ok" and "openai_base_url" not in (other / "argv.txt").read_text()


def test_a_non_zero_exit_is_exit_nonzero_with_its_code(tmp_path: Path) -> None:
    result = run(tmp_path, "echo 'error: unexpected argument' >&2; exit 2")
    assert result.outcome == "exit-nonzero" and result.exit_code == 2
    assert (result.error or "").startswith("Codex Exec exited with code 2: error: unexpected argument")


def test_a_failed_turn_is_exit_nonzero(tmp_path: Path) -> None:
    result = run(tmp_path, lines(STARTED, TURN, FAILED) + "\nexit 1")
    assert result.outcome == "exit-nonzero" and result.error == "turn.failed: unexpected status 401 Unauthorized"
    assert result.events[-1] == "turn.failed"


def test_a_non_json_line_is_a_crash(tmp_path: Path) -> None:
    result = run(tmp_path, lines(STARTED) + "\necho 'Reading additional input from stdin...'")
    assert result.outcome == "crash" and (result.error or "").startswith("Error: Failed to parse item")


def test_a_stream_without_an_answer_is_silent_empty(tmp_path: Path) -> None:
    result = run(tmp_path, lines('{"type":"session.created","session_id":"s"}', '{"type":"item.completed",'
                                 '"item":{"id":"i","item_type":"assistant_message","text":"OK"}}'))
    assert result.outcome == "silent-empty" and result.error is None and result.final_text is None
    assert result.events == ("session.created", "item.completed")


def test_a_codex_that_never_ends_is_a_hang_and_leaves_nothing(tmp_path: Path) -> None:
    retry = '{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion)"}'
    body = lines(STARTED, retry) + f"\necho $$ > {tmp_path}/codex.pid\nexec sleep 60"
    t0 = time.monotonic()
    result = run(tmp_path, body, timeout_s=1)
    assert result.outcome == "hang" and result.events == ("thread.started", "error")
    assert result.error == ("no result from the SDK within 1 s (it has no timeout of its own); codex's last error: "
                            "Reconnecting... 2/5 (stream disconnected before completion)")
    assert result.extra["last_codex_error"].startswith("Reconnecting... 2/5")
    assert time.monotonic() - t0 < 8
    pid = int((tmp_path / "codex.pid").read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.split(") ")[1].startswith("Z"):
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"codex stub {pid} survived the run")


@pytest.mark.parametrize(("options", "reason"), [
    ({"sdk_dist": None}, "bad request: options.sdk_dist must name"),
    ({"mode": "magic"}, "bad request: mode \"magic\" is not documented or provider"),
    ({"sdk_dist": "/nonexistent/dist"}, "could not load the SDK from /nonexistent/dist"),
])
def test_bad_requests_are_crashes_with_a_reason(tmp_path: Path, options: dict[str, Any], reason: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    opts = {"sdk_dist": str(fixture_sdk(tmp_path)), "mode": "documented", **options}
    opts = {k: v for k, v in opts.items() if v is not None}
    request = AdapterRequest(prompt="p", cwd=str(work), codex_path="/bin/false", codex_home=str(tmp_path),
                             home=str(tmp_path), base_url="http://127.0.0.1:9/v1", timeout_s=5, options=opts)
    result = run_adapter(["node", str(ADAPTER)], request, 15)
    assert result.outcome == "crash" and (result.error or "").startswith(reason), result.error


@pytest.mark.parametrize(("version", "via"), [("0.163.0", "--config openai_base_url"),
                                              ("0.114.0", "env OPENAI_BASE_URL"),
                                              ("0.46.0", "env OPENAI_BASE_URL")])  # no `env` option: process.env
def test_the_real_sdk_when_cached(tmp_path: Path, version: str, via: str) -> None:
    sdk = sdk_cache.cached(version)
    if sdk is None:
        pytest.skip(f"@openai/codex-sdk {version} is not in the SDK cache (fetch it with sdk_cache.fetch_sdk)")
    result = run(tmp_path, lines(STARTED, TURN, ANSWER, DONE), dist=sdk.dist)
    assert result.outcome == "ok" and result.lane == f"codex-sdk@{version}", result.describe()
    assert result.extra["sdk"]["base_url_via"] == via
    argv, env = (tmp_path / "argv.txt").read_text(), (tmp_path / "env.txt").read_text()
    assert argv.splitlines()[:2] == ["exec", "--experimental-json"]
    assert ("openai_base_url=" in argv) == (via.startswith("--config"))
    assert ("OPENAI_BASE_URL=" in env) == (via.startswith("env"))
    assert "CODEX_INTERNAL_ORIGINATOR_OVERRIDE=codex_sdk_ts" in env
    failing = tmp_path / "fail"
    failing.mkdir()
    assert run(failing, "exit 1", dist=sdk.dist).outcome == "exit-nonzero"
