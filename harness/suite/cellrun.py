"""Runs one (cell, scenario) through the real lane against the in-container fake API.

Everything a contract test asserts on is gathered here once — the lane result, the API's request
journal, the session files codex wrote, the resolver's decision — and saved as artifacts, so tests
stay pure assertions and a failing cell can be diagnosed from its artifacts alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.fakeapi import FakeResponsesAPI, write_codex_config
from harness.fakeapi.codex_config import provider_env
from harness.fakeapi.scenarios import SCENARIOS
from harness.lane.backends import resolve_backend
from harness.lane.executable import discover_executable, release_of
from harness.lane.probe import probe
from harness.lane.reader import ReadResult, read_transcript
from harness.lane.session import LaneRequest, LaneResult, run_lane
from harness.redact import Redactor
from harness.suite.credentials import CREDENTIAL_SETUPS, SetupContext
from harness.suite.facts import Facts, facts_of
from harness.suite.model import ModelChoice
from harness.suite.protocol import (
    ARGV_FILE,
    CONFIG_FILE,
    ENV_FILE,
    FACTS_FILE,
    JOURNAL_FILE,
    RESOLVER_FILE,
    STDERR_FILE,
    STDOUT_FILE,
    SUMMARY_FILE,
    TRANSCRIPT_FILE,
    CellSpec,
    SuiteTimeouts,
    scenario_dir,
)
from harness.suite.variants import VariantSetup, apply_variant
from harness.suite.waits import timeout_for

PROMPT = "Reply only with OK"
#: How long the bare credential probe keeps codex after the API saw its request (a retry would show).
PROBE_GRACE_S = 1.0
#: PATH of every run's environment: ``codex`` is found there (the image links it into /usr/local/bin).
RUN_PATH = "/usr/local/bin:/usr/bin:/bin"
#: The reply the fake model gives (the fake API's default), which a completed turn must end with.
REPLY = "OK"


def config_overrides(cell: CellSpec) -> tuple[str, ...]:
    """codex's sandbox mode for the cell, as every build 0.20–0.169 takes it (``-c sandbox_mode=…``,
    measured: the same as ``-s``). Sandboxed modes run codex's own sandbox inside the container, which
    the container's seccomp profile allows (harness/images/seccomp.py)."""
    return (f'sandbox_mode="{cell.sandbox}"',)


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
    variant: VariantSetup | None = None  # how the harness launched codex, when not plainly (scenario's variant)
    env: dict[str, str] = field(default_factory=dict)  # the cell's environment for codex (saved redacted)
    config_toml: str | None = None  # codex's config.toml as the run had it
    turn_ended_at: float | None = None  # epoch seconds the turn's end reached the lane (CompletionWatch)

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


def credential_context(api: FakeResponsesAPI, redactor: Redactor, home: Path, codex_home: Path, valid_key: str,
                       scenario: str, tag: str) -> SetupContext:
    """What a credential setup gets for one codex run: a credential of its own (a ChatGPT login's
    tokens) is hidden by the redactor and, when the fake should take it as a bearer, accepted by it."""
    def accept(key: str, kind: str) -> None:
        redactor.add(key)
        if kind:
            api.add_valid_key(key, kind=kind)

    root = api.provider_url(scenario, tag).removesuffix("/v1")
    return SetupContext(home, codex_home, valid_key, accept, root,
                        route_token=lambda token: api.route_token(token, root))


def raw_credential_probe(cell: CellSpec, *, api: FakeResponsesAPI, valid_key: str, workroot: Path, timeout_s: float,
                         model: str | None, redactor: Redactor) -> list[str]:
    """Which credential the API sees when the BUILD runs with the cell's credential setup, without the lane.

    The lane bridges OPENAI_API_KEY/CODEX_API_KEY into the key each build reads; running codex bare
    shows what the build itself honours, so a fingerprint can tell the build's truth from the lane's.
    It depends on the build and the credential setup only (codex runs without ``--ephemeral``), so the
    suite runs it once per (build, credential) and every cell of that pair reports it.

    The answer is the first request's credential, so codex is stopped :data:`PROBE_GRACE_S` after the
    API saw it (0.20.x would otherwise wait for a timeout after a 401); ``timeout_s`` only bounds a
    build that never sends one, and is generous because a loaded machine can take seconds to start it.
    """
    tag = f"codex{cell.version}-{cell.credential}.raw"
    work = workroot / tag
    shutil.rmtree(work, ignore_errors=True)
    home, codex_home, cwd = work / "home", work / "codex-home", work / "cwd"
    for d in (home, codex_home, cwd):
        d.mkdir(parents=True)
    url, version = api.provider_url("ok", tag), release_of(cell.version)
    write_codex_config(codex_home, url, model=model, version=version)  # the ok scenario needs no retries
    prepared = CREDENTIAL_SETUPS[cell.credential].prepare(credential_context(api, redactor, home, codex_home,
                                                                             valid_key, "ok", tag))
    env = {"PATH": RUN_PATH, "HOME": str(home), "CODEX_HOME": str(codex_home), "LANG": "C.UTF-8",
           **provider_env(url, version), **prepared.env, **prepared.child_env}
    argv = ["codex", "exec", "--json", "--skip-git-repo-check", "-C", str(cwd), "--", PROMPT]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    except OSError:
        return []
    deadline, seen = time.monotonic() + timeout_s, None
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if seen is None and api.journal(tag):
                seen = time.monotonic()
            if seen is not None and time.monotonic() - seen >= PROBE_GRACE_S:
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return sorted({str(e.get("credential")) for e in api.journal(tag)})


def warm_lane_caches() -> None:
    """Identify and probe the build once (``codex --version``, ``exec --help``, the binary's sha256),
    before the lane runs start: the lane caches all three per process, but runs that start together
    would each compute them at once (a 280 MB hash and two codex processes apiece), and that start-up
    would count against the first runs' timeouts."""
    executable = discover_executable(None, {"PATH": RUN_PATH})
    if executable is not None:
        probe(executable)


class CompletionWatch:
    """Watches codex's stdout and releases the fake's held tool answer once a command has completed.

    The ``tool`` scenario answers the follow-up only after codex printed the command's completion
    (``item.completed`` of a ``command_execution``; ``exec_command_end`` in legacy streams), so the
    0.117–0.145 race never decides the verdict there (``tool-race`` measures it on purpose).
    """

    _MARKERS = ((b'"item.completed"', b'"command_execution"'), (b'"exec_command_end"',))
    _TURN_END = (b'"turn.completed"', b'"turn.failed"')

    def __init__(self, api: FakeResponsesAPI, tag: str) -> None:
        self.api, self.tag, self.pending = api, tag, b""
        self.turn_ended_at: float | None = None  # epoch seconds the turn's end reached the lane

    def __call__(self, chunk: bytes) -> None:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        for line in lines:
            if any(all(m in line for m in markers) for markers in self._MARKERS):
                self.api.release(self.tag)
            if self.turn_ended_at is None and any(m in line for m in self._TURN_END):
                self.turn_ended_at = time.time()


#: How often a run whose fake world did not hold (``Scenario.world_held``) is staged in all, and the pause
#: before each new staging (growing, so a burst of load passes). Measured with a whole default matrix
#: beside it on 2 cores (load 10-17): 15-18 % of tool-race runs needed a second staging, 4-7 % a third,
#: and 1 of 72 cells did not hold in 3; each staging costs one ~1 s run, and only under load.
STAGINGS = 6
RESTAGE_PAUSE_S = 0.3


def run_cell_scenario(
    cell: CellSpec, scenario: str, *, api: FakeResponsesAPI, valid_key: str, workroot: Path,
    out_dir: Path, timeouts: SuiteTimeouts, redactor: Redactor, model: ModelChoice,
    provider_settings: Mapping[str, int] | None = None, raw_api_saw: Callable[[], list[str]] | None = None,
) -> Outcome:
    """One lane run of ``scenario`` in ``cell``; the ok scenario also reports ``raw_api_saw()`` (the
    build's bare credential probe, run once per build and credential by the caller).

    A scenario whose world rests on the fake's timing (``tool-race``: an answer at once) is staged again,
    up to :data:`STAGINGS` times, when the machine was too loaded for the fake to keep that timing: its
    verdict must come from the world it names, not from the load. ``facts.world_held`` says if it did."""
    for staging in range(1, STAGINGS + 1):
        if staging > 1:
            time.sleep(RESTAGE_PAUSE_S * (staging - 1))
        tag = f"{cell.id}.{scenario}" + (f".{staging}" if staging > 1 else "")
        outcome = _run_once(cell, scenario, tag, api=api, valid_key=valid_key, workroot=workroot, out_dir=out_dir,
                            timeouts=timeouts, redactor=redactor, model=model, provider_settings=provider_settings,
                            raw_api_saw=raw_api_saw)
        outcome.facts.stagings = staging
        world = SCENARIOS[scenario]
        outcome.facts.turn_after_command_s = world.turn_after_command_s(outcome.journal, outcome.turn_ended_at)
        outcome.facts.world_held = world.world_held(outcome.journal, outcome.turn_ended_at)
        if outcome.facts.world_held:
            break
    _save_all(outcome, redactor)
    return outcome


def _run_once(
    cell: CellSpec, scenario: str, tag: str, *, api: FakeResponsesAPI, valid_key: str, workroot: Path,
    out_dir: Path, timeouts: SuiteTimeouts, redactor: Redactor, model: ModelChoice,
    provider_settings: Mapping[str, int] | None, raw_api_saw: Callable[[], list[str]] | None,
) -> Outcome:
    work = workroot / cell.id / scenario
    shutil.rmtree(work, ignore_errors=True)
    home, codex_home, cwd = work / "home", work / "codex-home", work / "cwd"
    for d in (home, codex_home, cwd):
        d.mkdir(parents=True)
    slug = SCENARIOS[scenario].model or model.slug
    url, version = api.provider_url(scenario, tag), release_of(cell.version)
    write_codex_config(codex_home, url, model=slug, provider_settings=provider_settings, version=version)
    prepared = CREDENTIAL_SETUPS[cell.credential].prepare(credential_context(api, redactor, home, codex_home,
                                                                             valid_key, scenario, tag))
    env = {"PATH": RUN_PATH, "HOME": str(home), "CODEX_HOME": str(codex_home), "LANG": "C.UTF-8", **prepared.env}
    timeout_s = timeout_for(cell, scenario, timeouts)
    watch = CompletionWatch(api, tag)
    request = LaneRequest(
        prompt=PROMPT, cwd=cwd, policy=cell.policy,  # type: ignore[arg-type]
        codex_home=codex_home, env=env, config_overrides=config_overrides(cell), timeout_s=timeout_s,
        stdout_observer=watch, extra_env={**provider_env(url, version), **prepared.child_env},
    )
    request, variant = apply_variant(SCENARIOS[scenario].variant, request, work, shutil.which("codex", path=RUN_PATH))
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
        timeout_s=timeout_s, artifacts=scenario_dir(out_dir, cell.id, scenario), variant=variant,
    )
    sent = next((e["model"] for e in journal if e.get("model")), None)
    outcome.facts = facts_of(
        result, journal=journal, session_files=len(files), credential_setup=prepared.how, wall_s=wall,
        model=slug or sent, model_source="scenario" if SCENARIOS[scenario].model else model.source,
        model_catalog=model.catalog, sandbox=cell.sandbox, cwd_files=[p.name for p in cwd.iterdir()])
    outcome.cwd_files = outcome.facts.cwd_files
    if scenario == "ok" and raw_api_saw is not None:
        outcome.facts.raw_api_saw = raw_api_saw()
    outcome.env = env
    outcome.turn_ended_at = watch.turn_ended_at
    with contextlib.suppress(OSError):  # evidence only: never let it fail a run
        outcome.config_toml = (codex_home / "config.toml").read_text(encoding="utf-8")
    return outcome


def _save_all(outcome: Outcome, redactor: Redactor) -> None:
    """The run's artifacts, and what a reproduction needs beyond them: the environment and codex config."""
    transcript = "".join(json.dumps(row) + "\n" for row in outcome.result.transcript)
    _save(outcome, transcript, redactor)
    (outcome.artifacts / ENV_FILE).write_text(redactor.dumps(outcome.env, indent=2), encoding="utf-8")
    if outcome.config_toml is not None:
        (outcome.artifacts / CONFIG_FILE).write_text(redactor(outcome.config_toml), encoding="utf-8")


def _save(outcome: Outcome, transcript: str, redactor: Redactor) -> None:
    """Artifacts for diagnosis; every byte goes through the redactor first, JSON through its values (a
    mask applied to serialised JSON can break it), JSON lines line by line."""
    d = outcome.artifacts
    d.mkdir(parents=True, exist_ok=True)
    seam = outcome.result.seam
    (d / STDOUT_FILE).write_bytes(redactor.bytes(seam.stdout if seam else b""))
    (d / STDERR_FILE).write_bytes(redactor.bytes(seam.stderr if seam else b""))
    (d / TRANSCRIPT_FILE).write_text(redactor.lines(transcript), encoding="utf-8")

    def dump(name: str, data: Any) -> None:
        (d / name).write_text(redactor.dumps(data, indent=2, default=str), encoding="utf-8")

    dump(JOURNAL_FILE, outcome.journal)
    dump(SUMMARY_FILE, outcome.result.summary())
    dump(RESOLVER_FILE, outcome.resolver)
    dump(FACTS_FILE, outcome.facts.to_json())
    dump(ARGV_FILE, list(seam.argv) if seam else [])
