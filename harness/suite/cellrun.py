"""Runs one (cell, scenario) through the real lane against the in-container fake API.

Everything a contract test asserts on is gathered here once — the lane result, the API's request
journal, the session files codex wrote, the resolver's decision — and saved as artifacts, so tests
stay pure assertions and a failing cell can be diagnosed from its artifacts alone.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.fakeapi import FakeResponsesAPI, write_codex_config
from harness.fakeapi.scenarios import SCENARIOS
from harness.lane.backends import resolve_backend
from harness.lane.reader import ReadResult, read_transcript
from harness.lane.session import LaneRequest, LaneResult, run_lane
from harness.redact import Redactor
from harness.suite.credentials import CREDENTIAL_SETUPS, SetupContext
from harness.suite.facts import facts_of
from harness.suite.model import ModelChoice
from harness.suite.protocol import (
    FACTS_FILE,
    JOURNAL_FILE,
    RESOLVER_FILE,
    STDERR_FILE,
    SUMMARY_FILE,
    TRANSCRIPT_FILE,
    CellSpec,
    Facts,
    SuiteTimeouts,
    scenario_dir,
)

PROMPT = "Reply only with OK"
#: The reply the fake model gives (the fake API's default), which a completed turn must end with.
REPLY = "OK"


def config_overrides(cell: CellSpec) -> tuple[str, ...]:
    """codex's sandbox mode for the cell, as every build 0.20–0.169 takes it (``-c sandbox_mode=…``,
    measured: the same as ``-s``). Sandboxed modes run codex's own sandbox inside the container, which
    the container's seccomp profile allows (harness/images/seccomp.py)."""
    return (f'sandbox_mode="{cell.sandbox}"',)
#: Per-scenario artifacts beside the lane's: the cell's environment (redacted) and codex's config.toml.
ENV_FILE = "env.json"
CONFIG_FILE = "config.toml"


@dataclass
class Outcome:
    """What one (cell, scenario) run produced; contract tests assert on this."""

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
    facts: Facts = field(default_factory=Facts)
    cwd_files: list[str] = field(default_factory=list)  # what the run left in its working directory

    @property
    def turns(self) -> list[dict[str, Any]]:
        """The journal's ``POST /responses`` requests: the model turns, without the calls beyond them
        (a ChatGPT login's catalog refresh, its backend calls) that the journal also records."""
        return [e for e in self.journal if not e.get("call")]


def session_files(codex_home: Path) -> list[str]:
    sessions = codex_home / "sessions"
    if not sessions.is_dir():
        return []
    return sorted(str(p.relative_to(codex_home)) for p in sessions.rglob("*.jsonl"))


def raw_credential_probe(cell: CellSpec, api: FakeResponsesAPI, env: dict[str, str], codex_home: Path,
                         cwd: Path, timeout_s: float, model: str | None) -> list[str]:
    """Which credential the API sees when the BUILD runs with the setup's environment, without the lane.

    The lane bridges OPENAI_API_KEY/CODEX_API_KEY into the key each build reads; running codex bare
    shows what the build itself honours, so a fingerprint can tell the build's truth from the lane's.
    """
    tag = f"{cell.id}.raw"
    raw_home = codex_home.parent / "raw-codex-home"
    shutil.copytree(codex_home, raw_home, dirs_exist_ok=True)
    write_codex_config(raw_home, api.provider_url("ok", tag), model=model)  # the ok scenario needs no retries
    argv = ["timeout", "-k", "2", str(int(timeout_s)), "codex", "exec", "--json", "--skip-git-repo-check",
            "-C", str(cwd), "--", PROMPT]
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s + 5, check=False,
                       env={**env, "CODEX_HOME": str(raw_home)})
    return sorted({str(e.get("credential")) for e in api.journal(tag)})


def timeout_for(cell: CellSpec, scenario: str, timeouts: SuiteTimeouts) -> float:
    """A scenario that waits on purpose, and any legacy build (0.20 hangs on errors), get the short one."""
    if SCENARIOS[scenario].waits or cell.expect == "legacy-fallback":
        return timeouts.hang_s
    return timeouts.codex_s


class CompletionWatch:
    """Watches codex's stdout and releases the fake's held tool answer once a command has completed.

    The ``tool`` scenario answers the follow-up only after codex printed the command's completion
    (``item.completed`` of a ``command_execution``; ``exec_command_end`` in legacy streams), so the
    0.117–0.145 race never decides the verdict there (``tool-race`` measures it on purpose).
    """

    _MARKERS = ((b'"item.completed"', b'"command_execution"'), (b'"exec_command_end"',))

    def __init__(self, api: FakeResponsesAPI, tag: str) -> None:
        self.api, self.tag, self.pending = api, tag, b""

    def __call__(self, chunk: bytes) -> None:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        for line in lines:
            if any(all(m in line for m in markers) for markers in self._MARKERS):
                self.api.release(self.tag)


def run_cell_scenario(
    cell: CellSpec, scenario: str, *, api: FakeResponsesAPI, valid_key: str, workroot: Path,
    out_dir: Path, timeouts: SuiteTimeouts, redactor: Redactor, model: ModelChoice,
    provider_settings: Mapping[str, int] | None = None,
) -> Outcome:
    tag = f"{cell.id}.{scenario}"
    work = workroot / cell.id / scenario
    shutil.rmtree(work, ignore_errors=True)
    home, codex_home, cwd = work / "home", work / "codex-home", work / "cwd"
    for d in (home, codex_home, cwd):
        d.mkdir(parents=True)
    slug = SCENARIOS[scenario].model or model.slug
    write_codex_config(codex_home, api.provider_url(scenario, tag), model=slug, provider_settings=provider_settings)
    def accept(key: str, kind: str) -> None:
        redactor.add(key)
        if kind:
            api.add_valid_key(key, kind=kind)

    api_root = api.provider_url(scenario, tag).removesuffix("/v1")
    prepared = CREDENTIAL_SETUPS[cell.credential].prepare(SetupContext(home, codex_home, valid_key, accept, api_root))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "CODEX_HOME": str(codex_home),
           "LANG": "C.UTF-8", **prepared.env}
    timeout_s = timeout_for(cell, scenario, timeouts)
    request = LaneRequest(
        prompt=PROMPT, cwd=cwd, policy=cell.policy,  # type: ignore[arg-type]
        codex_home=codex_home, env=env, config_overrides=config_overrides(cell), timeout_s=timeout_s,
        stdout_observer=CompletionWatch(api, tag), extra_env=prepared.child_env,
    )
    started = time.monotonic()
    result = run_lane(request)
    wall = time.monotonic() - started
    decision = resolve_backend(
        "codex-native", policy=cell.policy,  # type: ignore[arg-type]
        env={**env, "CODEX_NATIVE_LANE": "1"}, codex_home=codex_home,
    ).to_dict()
    transcript = "".join(json.dumps(row) + "\n" for row in result.transcript)
    journal = api.journal(tag)
    files = session_files(codex_home)
    outcome = Outcome(
        cell=cell, scenario=scenario, result=result, journal=journal, session_files=files,
        read=read_transcript(transcript), resolver=decision, credential_setup=prepared.how, wall_s=wall,
        timeout_s=timeout_s, artifacts=scenario_dir(out_dir, cell.id, scenario),
    )
    sent = next((e["model"] for e in journal if e.get("model")), None)
    outcome.facts = facts_of(
        result, journal=journal, session_files=len(files), credential_setup=prepared.how, wall_s=wall,
        model=slug or sent, model_source="scenario" if SCENARIOS[scenario].model else model.source,
        model_catalog=model.catalog, sandbox=cell.sandbox, cwd_files=[p.name for p in cwd.iterdir()])
    outcome.cwd_files = outcome.facts.cwd_files
    if scenario == "ok":
        outcome.facts.raw_api_saw = raw_credential_probe(cell, api, {**env, **prepared.child_env}, codex_home, cwd,
                                                         timeouts.hang_s, slug)
    _save(outcome, transcript, redactor)
    # what a reproduction needs beyond the lane's own artifacts: the cell's environment and codex config
    (outcome.artifacts / ENV_FILE).write_text(redactor(json.dumps(env, indent=2)), encoding="utf-8")
    with contextlib.suppress(OSError):  # evidence only: never let it fail a run
        config = (codex_home / "config.toml").read_text(encoding="utf-8")
        (outcome.artifacts / CONFIG_FILE).write_text(redactor(config), encoding="utf-8")
    return outcome


def _save(outcome: Outcome, transcript: str, redactor: Redactor) -> None:
    """Artifacts for diagnosis; every byte goes through the redactor first."""
    d = outcome.artifacts
    d.mkdir(parents=True, exist_ok=True)
    seam = outcome.result.seam
    (d / "stdout.jsonl").write_bytes(redactor.bytes(seam.stdout if seam else b""))
    (d / STDERR_FILE).write_bytes(redactor.bytes(seam.stderr if seam else b""))
    (d / TRANSCRIPT_FILE).write_text(redactor(transcript), encoding="utf-8")

    def dump(name: str, data: Any) -> None:
        (d / name).write_text(redactor(json.dumps(data, indent=2, default=str)), encoding="utf-8")

    dump(JOURNAL_FILE, outcome.journal)
    dump(SUMMARY_FILE, outcome.result.summary())
    dump(RESOLVER_FILE, outcome.resolver)
    dump(FACTS_FILE, outcome.facts.to_json())
    dump("argv.json", list(seam.argv) if seam else [])
