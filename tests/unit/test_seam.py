"""The seam runner against real child processes: tiny shell scripts standing in for codex.

Each script is a real executable the runner starts exactly as it starts codex (argv, built env,
/dev/null stdin, new session), so the process-group kill, the concurrent draining and the
environment isolation are exercised for real.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from harness.lane import seam
from harness.lane.credentials import NO_CREDENTIAL, Credential
from harness.lane.executable import Executable
from harness.lane.probe import Capabilities
from harness.lane.seam import SeamRefused, SeamRequest, build_argv, build_env, run_seam

MODERN = Capabilities(
    flags=("--cd", "--config", "--ephemeral", "--json", "--skip-git-repo-check"),
    protocol="thread-events",
    supports_ephemeral=True,
)
NO_EPHEMERAL = Capabilities(
    flags=("--cd", "--config", "--json", "--skip-git-repo-check"), protocol="thread-events", supports_ephemeral=False
)
KEY = Credential(source="explicit-api-key", origin="explicit", key="sk-fixture-runner-key")


def script(tmp_path: Path, body: str, name: str = "codex") -> Executable:
    path = tmp_path / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return Executable(path=str(path), source="explicit", version_line="codex-cli 0.117.0", version="0.117.0")


def request(tmp_path: Path, exe: Executable, **kw: object) -> SeamRequest:
    cwd = tmp_path / "work"
    cwd.mkdir(exist_ok=True)
    fields: dict[str, object] = {
        "executable": exe,
        "prompt": "Reply only with OK",
        "cwd": cwd,
        "policy": "persistent",
        "codex_home": tmp_path / "home" / ".codex",
        "credential": KEY,
        "timeout_s": 10.0,
        "capabilities": MODERN,
    }
    fields.update(kw)
    return SeamRequest(**fields)  # type: ignore[arg-type]


def gone(pid: int) -> bool:
    """Dead, or a zombie awaiting its (new) parent: either way no longer running."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid: int, within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.01)
    return gone(pid)


# -- argv -------------------------------------------------------------------------------------------


def test_argv_persistent_and_ephemeral(tmp_path: Path) -> None:
    exe = script(tmp_path, "exit 0")
    req = request(tmp_path, exe, prompt="-starts with a dash", config_overrides=("model=\"gpt-fake\"", "a.b=1"))
    cwd = str(tmp_path / "work")
    assert build_argv(req, MODERN) == [
        exe.path, "exec", "--json", "--skip-git-repo-check", "-C", cwd,
        "-c", 'model="gpt-fake"', "-c", "a.b=1", "--", "-starts with a dash",
    ]
    eph = request(tmp_path, exe, policy="ephemeral")
    assert build_argv(eph, MODERN) == [
        exe.path, "exec", "--json", "--skip-git-repo-check", "--ephemeral", "-C", cwd, "--", "Reply only with OK",
    ]


def test_ephemeral_refused_without_the_flag_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    exe = script(tmp_path, f"touch {marker}")
    with pytest.raises(SeamRefused) as info:
        run_seam(request(tmp_path, exe, policy="ephemeral", capabilities=NO_EPHEMERAL))
    assert "--ephemeral" in info.value.reason and "persist" in info.value.reason
    assert not marker.exists()


def test_build_without_json_refused(tmp_path: Path) -> None:
    caps = Capabilities(flags=("--cd", "--skip-git-repo-check"), protocol="unknown", supports_ephemeral=False)
    with pytest.raises(SeamRefused, match="--json"):
        build_argv(request(tmp_path, script(tmp_path, "exit 0")), caps)


@pytest.mark.parametrize("bad", ["noequals", "=value", " key=v"])
def test_malformed_override_rejected(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="key=value"):
        build_argv(request(tmp_path, script(tmp_path, "exit 0"), config_overrides=(bad,)), MODERN)


def test_missing_cwd_refused(tmp_path: Path) -> None:
    req = request(tmp_path, script(tmp_path, "exit 0"))
    req = SeamRequest(**{**req.__dict__, "cwd": tmp_path / "absent"})
    with pytest.raises(SeamRefused, match="does not exist"):
        run_seam(req)


def test_vanished_binary_refused(tmp_path: Path) -> None:
    exe = script(tmp_path, "exit 0")
    Path(exe.path).unlink()
    with pytest.raises(SeamRefused, match="could not start"):
        run_seam(request(tmp_path, exe))


# -- environment ------------------------------------------------------------------------------------


def test_env_is_built_not_inherited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST_LEAK_MARKER", "leaked")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-openai-key")
    monkeypatch.setenv("RUST_LOG", "trace")
    exe = script(tmp_path, 'python3 -c "import json, os; print(json.dumps(dict(os.environ)))"')
    result = run_seam(request(tmp_path, exe, extra_env={"EXTRA_ASKED": "yes"}))
    assert result.exit_code == 0, result.stderr
    env = json.loads(result.stdout)
    env.pop("PWD", None)  # the shell sets it
    assert env == {
        "PATH": seam.DEFAULT_CHILD_PATH,
        "HOME": str(tmp_path / "home"),
        "CODEX_HOME": str(tmp_path / "home" / ".codex"),
        "LANG": "C.UTF-8",
        "CODEX_API_KEY": "sk-fixture-runner-key",
        "EXTRA_ASKED": "yes",
    }
    assert list(env.values()).count("sk-fixture-runner-key") == 1


def test_legacy_build_gets_the_key_as_openai_api_key(tmp_path: Path) -> None:
    exe = Executable(path="/x/codex", source="env", version_line="codex-cli 0.20.0", version="0.20.0")
    env = build_env(request(tmp_path, exe))
    assert env.get("OPENAI_API_KEY") == "sk-fixture-runner-key" and "CODEX_API_KEY" not in env


def test_auth_json_and_no_credential_pass_no_key(tmp_path: Path) -> None:
    exe = script(tmp_path, "exit 0")
    for cred in (Credential(source="auth-json", origin="auth.json"), NO_CREDENTIAL):
        env = build_env(request(tmp_path, exe, credential=cred))
        assert not {"CODEX_API_KEY", "OPENAI_API_KEY"} & env.keys()


def test_key_not_in_argv_or_repr(tmp_path: Path) -> None:
    req = request(tmp_path, script(tmp_path, "exit 0"))
    assert "sk-fixture-runner-key" not in repr(req)
    assert not any("sk-fixture" in a for a in build_argv(req, MODERN))


# -- process handling -------------------------------------------------------------------------------


def test_stdin_is_closed(tmp_path: Path) -> None:
    exe = script(tmp_path, 'n=$(cat | wc -c); echo "stdin-bytes=$n"')
    result = run_seam(request(tmp_path, exe, timeout_s=5.0))
    assert (result.exit_code, result.timed_out) == (0, False)
    assert result.stdout.strip() == b"stdin-bytes=0"
    assert result.duration_s < 2


def test_both_streams_drained_concurrently(tmp_path: Path) -> None:
    """stderr is written in full *before* stdout: a reader that waits on stdout first would deadlock."""
    size = 1_500_000
    exe = script(tmp_path, f"head -c {size} /dev/zero | tr '\\0' e >&2; head -c {size} /dev/zero | tr '\\0' o; "
                 f"head -c {size} /dev/zero | tr '\\0' E >&2; exit 7")
    result = run_seam(request(tmp_path, exe, timeout_s=10.0))
    assert (result.exit_code, result.timed_out) == (7, False)
    assert result.stdout == b"o" * size
    assert result.stderr == b"e" * size + b"E" * size


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    exe = script(tmp_path, f"sleep 300 & echo $! > {pids}; echo started; sleep 300")
    t0 = time.monotonic()
    result = run_seam(request(tmp_path, exe, timeout_s=0.3))
    assert time.monotonic() - t0 < 2.5
    assert (result.exit_code, result.timed_out) == (None, True)
    assert result.stdout == b"started\n"
    assert wait_gone(int(pids.read_text()))


def test_term_ignoring_grandchild_gets_sigkill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seam, "TERM_GRACE_S", 0.2)
    pids = tmp_path / "pids"
    exe = script(tmp_path, f"trap '' TERM; (trap '' TERM; sleep 300) & echo $! > {pids}; sleep 300")
    result = run_seam(request(tmp_path, exe, timeout_s=0.2))
    assert result.timed_out and result.exit_code is None
    assert wait_gone(int(pids.read_text()))


def test_leftovers_of_a_normal_exit_do_not_hold_the_run(tmp_path: Path) -> None:
    """A background child inheriting stdout would keep the pipe open forever; the group kill ends it."""
    pids = tmp_path / "pids"
    exe = script(tmp_path, f"sleep 300 & echo $! > {pids}; echo done")
    t0 = time.monotonic()
    result = run_seam(request(tmp_path, exe, timeout_s=10.0))
    assert time.monotonic() - t0 < 1.5
    assert (result.exit_code, result.stdout) == (0, b"done\n")
    assert wait_gone(int(pids.read_text()))


def test_result_identity_fields(tmp_path: Path) -> None:
    exe = script(tmp_path, 'echo "$@"; pwd')
    req = request(tmp_path, exe, policy="ephemeral")
    result = run_seam(req)
    assert result.argv == tuple(build_argv(req, MODERN))
    lines = result.stdout.decode().splitlines()
    assert lines[0] == " ".join(result.argv[1:])
    assert lines[1] == str(tmp_path / "work")
    assert datetime.fromisoformat(result.started_at).tzinfo is not None
    assert 0 <= result.duration_s < 2
    assert os.getpgrp() != 0  # we are still in our own group: the kill never targets the test process


def test_a_commands_group_left_in_codexs_session_is_killed_after_a_normal_exit(tmp_path: Path) -> None:
    """0.80.0 puts a command in a group of its own inside codex's session and leaves what it started
    running when it exits; the run's session still names it, so the seam kills it too."""
    pids = tmp_path / "pids"
    starter = ("import os, subprocess; p = subprocess.Popen(['sleep', '300'], preexec_fn=lambda: os.setpgid(0, 0), "
               f"stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); open({str(pids)!r}, 'w').write(str(p.pid))")
    exe = script(tmp_path, f'{sys.executable} -c "{starter}"; echo done')
    result = run_seam(request(tmp_path, exe, timeout_s=10.0))
    assert (result.exit_code, result.stdout) == (0, b"done\n")
    child = int(pids.read_text())
    assert wait_gone(child), "the command's own group outlived the run"
