"""Runs one (cell, scenario) through the real lane against the in-container fake API.

Everything a contract test asserts on is gathered here once — the lane result, the API's request
journal, the session files codex wrote, the resolver's decision — and saved as artifacts, so tests
stay pure assertions and a failing cell can be diagnosed from its artifacts alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.fakeapi import FakeResponsesAPI, write_codex_config
from harness.lane.backends import resolve_backend
from harness.lane.reader import ReadResult, read_transcript
from harness.lane.session import LaneRequest, LaneResult, run_lane
from harness.redact import Redactor

PROMPT = "Reply only with OK"
VALID_KEY_ENV = "CNM_VALID_KEY"
INVALID_KEY = "sk-matrix-invalid-0000000000000000"
# The container is the sandbox: codex's own (bwrap from 0.150) cannot create namespaces inside it
# ("bwrap: No permissions to create a new namespace", measured on 0.169.0), so tools would fail.
CONFIG_OVERRIDES: tuple[str, ...] = ('sandbox_mode="danger-full-access"',)


@dataclass
class CellSpec:
    id: str
    version: str
    credential: str
    policy: str
    scenarios: list[str]
    expect: str
    expect_reason: str
    xfail: dict[str, dict[str, Any]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellSpec:
        return cls(
            id=data["id"],
            version=data["version"],
            credential=data["credential"],
            policy=data["policy"],
            scenarios=list(data["scenarios"]),
            expect=data["expect"],
            expect_reason=data.get("expect_reason", ""),
            xfail=dict(data.get("xfail", {})),
        )


@dataclass
class Outcome:
    """What one (cell, scenario) run produced; tests assert on this."""

    cell: CellSpec
    scenario: str
    result: LaneResult
    journal: list[dict[str, Any]]
    session_files: list[str]
    read: ReadResult
    resolver: dict[str, Any]
    credential_setup: str
    wall_s: float
    timeout_s: float
    artifacts: Path
    facts: dict[str, Any] = field(default_factory=dict)


def _credential_env(cell: CellSpec, valid_key: str, codex_home: Path, home: Path) -> tuple[dict[str, str], str]:
    """Environment for the lane per credential setup, and how the setup was made (for the report)."""
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": str(home),
           "CODEX_HOME": str(codex_home), "LANG": "C.UTF-8"}
    how = cell.credential
    if cell.credential == "codex-api-key":
        env["CODEX_API_KEY"] = valid_key
    elif cell.credential == "openai-api-key":
        env["OPENAI_API_KEY"] = valid_key
    elif cell.credential == "invalid-key":
        env["CODEX_API_KEY"] = INVALID_KEY
    elif cell.credential == "auth-json":
        how = _login(codex_home, home, valid_key)
    return env, how


def _login(codex_home: Path, home: Path, key: str) -> str:
    """Store the key the way the build itself would: its own `codex login`, else the auth.json format."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "CODEX_HOME": str(codex_home)}
    attempts = (
        (["codex", "login", "--with-api-key"], key + "\n", "codex login --with-api-key"),
        (["codex", "login", "--api-key", key], None, "codex login --api-key"),
    )
    for argv, stdin, label in attempts:
        try:
            proc = subprocess.run(
                ["timeout", "-k", "2", "20", *argv], input=(stdin or "").encode(), env=env,
                capture_output=True, timeout=30, check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0 and (codex_home / "auth.json").exists():
            return label
    (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": key}), encoding="utf-8")
    os.chmod(codex_home / "auth.json", 0o600)
    return "auth.json written ({\"OPENAI_API_KEY\": …})"


def session_files(codex_home: Path) -> list[str]:
    sessions = codex_home / "sessions"
    if not sessions.is_dir():
        return []
    return sorted(str(p.relative_to(codex_home)) for p in sessions.rglob("*.jsonl"))


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TS = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z?|\d+(\.\d+)?m?s\b")
_PATH = re.compile(r"/tmp/cnm/[^\s'\"]+")


def normalize_stderr_line(line: str) -> str:
    """Stderr with run-specific noise (ids, times, temp paths) removed, so builds can be compared."""
    line = _UUID.sub("<uuid>", line)
    line = _TS.sub("<t>", line)
    return _PATH.sub("<tmp>", line).strip()


def _facts(outcome: Outcome) -> dict[str, Any]:
    result = outcome.result
    event_types: list[str] = []
    item_types: list[str] = []
    usage_keys: list[str] = []
    stdout = result.seam.stdout if result.seam else b""
    for raw in stdout.splitlines():
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        msg = obj.get("msg")
        etype = msg.get("type") if isinstance(msg, dict) else obj.get("type")
        if isinstance(etype, str) and etype not in event_types:
            event_types.append(etype)
        item = obj.get("item")
        if isinstance(item, dict):
            itype = item.get("type") or item.get("item_type")
            if isinstance(itype, str) and itype not in item_types:
                item_types.append(itype)
        usage = obj.get("usage")
        if isinstance(usage, dict):
            usage_keys = list(usage)
    stderr = result.seam.stderr.decode("utf-8", "replace").splitlines() if result.seam else []
    return {
        "version_line": result.executable.version_line if result.executable else None,
        "protocol": result.capabilities.protocol if result.capabilities else None,
        "stream_protocol": result.mapped.protocol,
        "flags": list(result.capabilities.flags) if result.capabilities else [],
        "event_types": event_types,
        "item_types": item_types,
        "usage_keys": usage_keys,
        "tools_declared": next((e.get("tools", []) for e in outcome.journal if e.get("tools")), []),
        "stderr": sorted({normalize_stderr_line(s) for s in stderr if s.strip()}),
        "session_files": len(outcome.session_files),
        "journal_credentials": sorted({str(e.get("credential")) for e in outcome.journal}),
        "credential_setup": outcome.credential_setup,
        "exit_code": result.seam.exit_code if result.seam else None,
        "timed_out": bool(result.seam and result.seam.timed_out),
        "thread_status": result.authority.thread_status,
        "refused": result.refused,
        "wall_s": round(outcome.wall_s, 3),
    }


def raw_credential_probe(cell: CellSpec, api: FakeResponsesAPI, env: dict[str, str], codex_home: Path,
                         cwd: Path, timeout_s: float) -> list[str]:
    """Which credential the API sees when the BUILD runs with the setup's environment, without the lane.

    The lane bridges OPENAI_API_KEY/CODEX_API_KEY into the key each build reads; running codex bare
    shows what the build itself honours, so a fingerprint can tell the build's truth from the lane's.
    """
    tag = f"{cell.id}.raw"
    raw_home = codex_home.parent / "raw-codex-home"
    shutil.copytree(codex_home, raw_home, dirs_exist_ok=True)
    write_codex_config(raw_home, api.provider_url("ok", tag))
    argv = ["timeout", "-k", "2", str(int(timeout_s)), "codex", "exec", "--json", "--skip-git-repo-check",
            "-C", str(cwd), "--", PROMPT]
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s + 5, check=False,
                       env={**env, "CODEX_HOME": str(raw_home)})
    return sorted({str(e.get("credential")) for e in api.journal(tag)})


def run_cell_scenario(
    cell: CellSpec, scenario: str, *, api: FakeResponsesAPI, valid_key: str, workroot: Path,
    out_dir: Path, timeouts: dict[str, float], redactor: Redactor,
) -> Outcome:
    tag = f"{cell.id}.{scenario}"
    work = workroot / cell.id / scenario
    shutil.rmtree(work, ignore_errors=True)
    home, codex_home, cwd = work / "home", work / "codex-home", work / "cwd"
    for d in (home, codex_home, cwd):
        d.mkdir(parents=True)
    write_codex_config(codex_home, api.provider_url(scenario, tag))
    env, how = _credential_env(cell, valid_key, codex_home, home)
    legacy = cell.expect == "legacy-fallback"
    timeout_s = timeouts["hang_s"] if scenario == "hang" or legacy else timeouts["codex_s"]
    request = LaneRequest(
        prompt=PROMPT, cwd=cwd, policy=cell.policy,  # type: ignore[arg-type]
        codex_home=codex_home, env=env, config_overrides=CONFIG_OVERRIDES, timeout_s=timeout_s,
    )
    started = time.monotonic()
    result = run_lane(request)
    wall = time.monotonic() - started
    decision = resolve_backend(
        "codex-native", policy=cell.policy,  # type: ignore[arg-type]
        env={**env, "CODEX_NATIVE_LANE": "1"}, codex_home=codex_home,
    ).to_dict()
    transcript = "".join(json.dumps(row) + "\n" for row in result.transcript)
    outcome = Outcome(
        cell=cell, scenario=scenario, result=result, journal=api.journal(tag),
        session_files=session_files(codex_home), read=read_transcript(transcript), resolver=decision,
        credential_setup=how, wall_s=wall, timeout_s=timeout_s, artifacts=out_dir / cell.id / scenario,
    )
    outcome.facts = _facts(outcome)
    if scenario == "ok":
        outcome.facts["raw_api_saw"] = raw_credential_probe(cell, api, env, codex_home, cwd, timeouts["hang_s"])
    _save(outcome, transcript, redactor)
    return outcome


def _save(outcome: Outcome, transcript: str, redactor: Redactor) -> None:
    """Artifacts for diagnosis; every byte goes through the redactor first."""
    d = outcome.artifacts
    d.mkdir(parents=True, exist_ok=True)
    seam = outcome.result.seam
    (d / "stdout.jsonl").write_bytes(redactor.bytes(seam.stdout if seam else b""))
    (d / "stderr.txt").write_bytes(redactor.bytes(seam.stderr if seam else b""))
    (d / "transcript.jsonl").write_text(redactor(transcript), encoding="utf-8")

    def dump(name: str, data: Any) -> None:
        (d / name).write_text(redactor(json.dumps(data, indent=2, default=str)), encoding="utf-8")

    dump("journal.json", outcome.journal)
    dump("summary.json", outcome.result.summary())
    dump("resolver.json", outcome.resolver)
    dump("facts.json", outcome.facts)
    dump("argv.json", list(seam.argv) if seam else [])
