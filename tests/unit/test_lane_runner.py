"""run_adapter against real child processes: shell scripts standing in for lane adapters.

Each script is started exactly as a real adapter is (own session, request on stdin), so the group kill,
the timeout classification and the crash reasons are exercised for real.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from harness.lanes.protocol import AdapterRequest
from harness.lanes.runner import run_adapter

REQUEST = AdapterRequest(prompt="Reply only with OK", cwd="/", codex_path="/bin/false",
                         codex_home="/nonexistent/.codex", home="/nonexistent", base_url="http://127.0.0.1:9/v1",
                         timeout_s=5)
OK = json.dumps({"protocol": 1, "lane": "sh@1", "outcome": "ok", "events": ["turn.completed"], "final_text": "OK"})


def adapter(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "adapter.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return [str(path)]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie not yet reaped by init counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return True


def wait_gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.02)
    return False


def test_a_good_result_comes_back_with_what_the_runner_saw(tmp_path: Path) -> None:
    argv = adapter(tmp_path, f"cat > {tmp_path}/request.json; echo diag >&2; echo '{OK}'")
    result = run_adapter(argv, REQUEST, 10)
    assert result.outcome == "ok" and result.final_text == "OK" and result.lane == "sh@1"
    assert result.adapter_exit_code == 0 and "diag" in result.adapter_stderr and result.wall_s is not None
    assert AdapterRequest.loads((tmp_path / "request.json").read_text()) == REQUEST


def test_a_timeout_is_a_hang_and_no_process_survives(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # the adapter forks a child that ignores SIGTERM, then sleeps itself: both must die
    argv = adapter(tmp_path, f"sh -c 'trap \"\" TERM; echo $$ > {pidfile}; exec sleep 60' & sleep 60")
    t0 = time.monotonic()
    result = run_adapter(argv, REQUEST, 0.5, lane="stuck@1")
    assert result.outcome == "hang", result
    assert result.lane == "stuck@1" and "no result within 0.5 s" in (result.error or "")
    assert result.adapter_exit_code is None
    assert time.monotonic() - t0 < 5
    assert wait_gone(int(pidfile.read_text()))


def test_a_child_left_behind_after_a_result_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    argv = adapter(tmp_path, f"sh -c 'echo $$ > {pidfile}; exec sleep 60' >/dev/null 2>&1 & "
                             f"while [ ! -s {pidfile} ]; do sleep 0.01; done; echo '{OK}'")
    result = run_adapter(argv, REQUEST, 10)
    assert result.outcome == "ok"
    assert wait_gone(int(pidfile.read_text()))


@pytest.mark.parametrize(("body", "reason"), [
    ("echo 'Error: Cannot find module /x/dist/index.js' >&2; exit 1",
     "adapter exited 1 without a result: Error: Cannot find module /x/dist/index.js"),
    ("kill -9 $$", "adapter killed by signal 9"),
    ("echo 'not json'", "adapter result malformed: stdout is not JSON"),
    ("true", "adapter result malformed: printed no result on stdout"),
    ("echo '{\"protocol\": 1, \"lane\": \"x\", \"outcome\": \"ok\", \"events\": [], \"final_txt\": \"OK\"}'",
     "adapter result malformed: result has unknown key 'final_txt'"),
])
def test_anything_but_a_result_is_a_crash_with_one_line(tmp_path: Path, body: str, reason: str) -> None:
    result = run_adapter(adapter(tmp_path, body), REQUEST, 10, lane="bad@1")
    assert result.outcome == "crash" and result.lane == "bad@1"
    assert (result.error or "").startswith(reason), result.error
    assert "\n" not in (result.error or "")


def test_an_adapter_that_cannot_start_is_a_crash(tmp_path: Path) -> None:
    result = run_adapter([str(tmp_path / "missing")], REQUEST, 5, lane="gone@1")
    assert result.outcome == "crash" and "could not start the adapter" in (result.error or "")


def test_an_adapter_that_never_reads_stdin_still_runs(tmp_path: Path) -> None:
    big = AdapterRequest(**{**REQUEST.__dict__, "prompt": "x" * 1_000_000})  # more than a pipe holds
    result = run_adapter(adapter(tmp_path, f"echo '{OK}'"), big, 10)
    assert result.outcome == "ok"


@pytest.mark.parametrize(("stderr", "line"), [
    # Node: the error, a stack, then the runtime's version
    ("file:///x/lane.mjs:17\n  const e = JSON.parse(l);\n       ^\n\nSyntaxError: Unexpected token 'R', \"Reading\" is "
     "not valid JSON\n    at JSON.parse (<anonymous>)\n    at file:///x/lane.mjs:17:5\n\nNode.js v20.20.2\n",
     "SyntaxError: Unexpected token 'R', \"Reading\" is not valid JSON"),
    # Python: the exception last
    ("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'prompt'\n",
     "KeyError: 'prompt'"),
    ("thread 'main' panicked at src/main.rs:2:5:\nboom\n", "thread 'main' panicked at src/main.rs:2:5:"),
    ("usage: lane [-h]\nlane: error: unrecognized arguments\n", "lane: error: unrecognized arguments"),
    ("", "no stderr"),
])
def test_a_crash_names_the_line_that_says_what_broke(tmp_path: Path, stderr: str, line: str) -> None:
    (tmp_path / "stderr.txt").write_text(stderr)
    result = run_adapter(adapter(tmp_path, f"cat {tmp_path}/stderr.txt >&2; exit 1"), REQUEST, 10)
    assert result.error == f"adapter exited 1 without a result: {line}"
