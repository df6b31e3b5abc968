"""Runs one (cell, scenario) of a foreign lane through its adapter, against the in-container fake API.

The python lane runs in process (:mod:`harness.suite.cellrun`), as it always has: it is the reference and
its verdicts must not move. Every other lane (OpenAI's TypeScript SDK, a user's script) is a program
that speaks the lane adapter protocol (:mod:`harness.lanes.protocol`); this module prepares its world
exactly as a user of that lane would have it, starts the adapter under :func:`harness.lanes.runner.run_adapter`
(its own process group, a hard kill), and gathers what the contract tests judge: the protocol result and
the fake API's request journal. Everything is saved, redacted, beside the python lane's artifacts.

The two SDK modes differ only in how codex finds the fake:

* ``documented``: ``baseUrl`` and ``apiKey`` as the SDK's README says. CODEX_HOME's config.toml pins no
  provider and no base URL (only the model and the off-switches for calls beside the turn), so whatever
  the SDK does with ``baseUrl`` is what reaches codex: the answer the SDK's users get.
* ``provider``: the fake pinned as a custom provider in config.toml (every SDK version) and through the
  SDK's ``config`` option (0.99+), with the matrix's retry settings: only the event seam is tested.

A script lane (a user's own adapter) gets provider mode's CODEX_HOME: it runs codex as it likes, and the
fake is pinned where every build looks for it (it may still read ``base_url`` from the request).

Standard library only: it runs inside the containers.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.fakeapi import FakeResponsesAPI, write_codex_config
from harness.fakeapi.codex_config import DEFAULT_PROVIDER_SETTINGS
from harness.fakeapi.scenarios import SCENARIOS
from harness.lane.executable import release_of
from harness.lanes.catalog import LaneId, adapter_argv, adapter_options, parse_lane
from harness.lanes.protocol import AdapterRequest, AdapterResult
from harness.lanes.runner import run_adapter
from harness.redact import Redactor
from harness.suite.cellrun import PROMPT, RUN_PATH, credential_context
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.facts import Facts
from harness.suite.model import ModelChoice
from harness.suite.protocol import (
    CONTAINER_LANES_DIR,
    FACTS_FILE,
    JOURNAL_FILE,
    LANE_RESULT_FILE,
    LANE_SEPARATOR,
    STDERR_FILE,
    CellSpec,
    SuiteTimeouts,
    scenario_dir,
)
from harness.suite.waits import timeout_for

#: The least budget a foreign lane's run gets: documented mode runs codex's own retry defaults (the SDK's
#: users have no other), and a turn the API refuses with 500 then ends after 25-38 s of retries (measured
#: at load 15 on 2 cores); a budget under ~40 s would misread a reported failure as a hang.
MIN_TIMEOUT_S = 60.0
#: Seconds between the adapter's own budget (``timeout_s``) and the runner's hard kill: room to report
#: what it saw before it gave up (the SDK adapter reports ``hang`` with its events at its budget).
KILL_GRACE_S = 10.0
#: documented mode's config.toml: no provider, no base URL; the model (so a build declares its tools) and
#: only what stops calls a user's codex makes beside the turn (plugin sync, analytics, metrics).
DOCUMENTED_CONFIG = """# documented mode (harness/suite/lanerun.py): no provider, no base URL; the SDK's baseUrl decides
{model}[features]
plugins = false

[analytics]
enabled = false

[otel]
metrics_exporter = "none"
"""


def sdk_dist(version: str, root: str = CONTAINER_LANES_DIR) -> str:
    """Where the host mounts the SDK's ``dist/`` of ``version`` (the SDK cache entry's ``package/``)."""
    return f"{root}/codex-sdk/{version}/dist"


def provider_config(url: str, settings: Mapping[str, int] | None) -> dict[str, Any]:
    """The pinned provider as the SDK's ``config`` object: the same one config.toml pins."""
    return {"model_provider": "fake", "model_providers": {"fake": {
        "name": "fake", "base_url": url, "wire_api": "responses", "requires_openai_auth": True,
        **{**DEFAULT_PROVIDER_SETTINGS, **(settings or {})}}}}


@dataclass
class LaneOutcome:
    """What one foreign-lane run produced; the lane contract tests (``needs("seam")``) assert on this."""

    cell: CellSpec
    scenario: str
    lane: LaneId
    result: AdapterResult
    journal: list[dict[str, Any]]
    timeout_s: float  # the adapter's own budget
    kill_s: float  # the runner's hard kill
    artifacts: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def turns(self) -> list[dict[str, Any]]:
        """The journal's model turns (``POST /responses``), without the calls beyond them."""
        return [e for e in self.journal if not e.get("call")]

    def describe(self) -> str:
        """One line for a failure message: how the run ended, in the protocol's words, and what the API saw."""
        seen = sorted({f"{e.get('credential')} {e.get('status')}" for e in self.turns})
        return (f"{self.lane.full} on codex {self.cell.version}, scenario {self.scenario}: "
                f"{self.result.describe()} (events {list(self.result.events)[:8]}; API saw "
                f"{len(self.turns)} turn(s){': ' + ', '.join(seen) if seen else ''})")


def run_lane_scenario(cell: CellSpec, scenario: str, *, api: FakeResponsesAPI, valid_key: str, workroot: Path,
                      out_dir: Path, timeouts: SuiteTimeouts, redactor: Redactor, model: ModelChoice,
                      provider_settings: Mapping[str, int] | None = None) -> LaneOutcome:
    """One adapter run of ``scenario`` in ``cell`` (module docstring), saved under the cell's artifacts."""
    lane = parse_lane(cell.lane)
    tag = f"{cell.id.replace(LANE_SEPARATOR, '_')}.{scenario}"  # the fake takes [A-Za-z0-9._-] only
    work = workroot / cell.id / scenario
    shutil.rmtree(work, ignore_errors=True)
    home, cwd = work / "home", work / "cwd"
    codex_home = home / ".codex"
    for d in (home, codex_home, cwd):
        d.mkdir(parents=True, exist_ok=True)
    slug = SCENARIOS[scenario].model or model.slug
    url = api.provider_url(scenario, tag)
    provider: dict[str, Any] | None = None
    if lane.mode != "documented":  # provider mode, and any lane with no base URL of its own (a script)
        write_codex_config(codex_home, url, model=slug, provider_settings=provider_settings,
                           version=release_of(cell.version))
        provider = provider_config(url, provider_settings)
    else:
        (codex_home / "config.toml").write_text(
            DOCUMENTED_CONFIG.format(model=f"model = {json.dumps(slug)}\n\n" if slug else ""), encoding="utf-8")
    prepared = CREDENTIAL_SETUPS[cell.credential].prepare(credential_context(api, redactor, home, codex_home,
                                                                             valid_key, scenario, tag))
    env = {**prepared.env, **prepared.child_env}
    options = adapter_options(lane, sdk_dist=sdk_dist(lane.version or ""), provider_config=provider)
    options["sandbox"] = cell.sandbox
    waits = SCENARIOS[scenario].waits  # a scenario whose API never answers: its short timeout is the point
    timeout_s = timeout_for(cell, scenario, timeouts) if waits else max(timeouts.codex_s, MIN_TIMEOUT_S)
    request = AdapterRequest(prompt=PROMPT, cwd=str(cwd), codex_path=shutil.which("codex", path=RUN_PATH) or "codex",
                             codex_home=str(codex_home), home=str(home), base_url=url, timeout_s=timeout_s, env=env,
                             options=options)
    kill_s = timeout_s + KILL_GRACE_S
    result = run_adapter(adapter_argv(lane), request, kill_s, lane=lane.full,
                         env={"PATH": RUN_PATH, "HOME": str(home), "LANG": "C.UTF-8"})
    outcome = LaneOutcome(cell=cell, scenario=scenario, lane=lane, result=result, journal=api.journal(tag),
                          timeout_s=timeout_s, kill_s=kill_s, artifacts=scenario_dir(out_dir, cell.id, scenario),
                          env=env)
    save(outcome, redactor)
    shutil.rmtree(work, ignore_errors=True)
    return outcome


def save(outcome: LaneOutcome, redactor: Redactor) -> None:
    """The run's artifacts, every value through the redactor: the result (with the adapter's stderr), the
    journal, and facts with the wall time (no version line: a lane's view never enters a build's fingerprint)."""
    d = outcome.artifacts
    d.mkdir(parents=True, exist_ok=True)
    r = outcome.result
    doc = {**r.to_json(), "adapter_exit_code": r.adapter_exit_code, "wall_s": r.wall_s,
           "timeout_s": outcome.timeout_s, "kill_s": outcome.kill_s, "saved_at": round(time.time(), 3)}
    (d / LANE_RESULT_FILE).write_text(redactor.dumps(doc, indent=2, default=str), encoding="utf-8")
    (d / JOURNAL_FILE).write_text(redactor.dumps(outcome.journal, indent=2, default=str), encoding="utf-8")
    (d / STDERR_FILE).write_text(redactor(r.adapter_stderr), encoding="utf-8")
    facts = Facts(event_types=sorted(set(r.events)), exit_code=r.exit_code, timed_out=r.outcome == "hang",
                  wall_s=r.wall_s or 0.0, sandbox=outcome.cell.sandbox,
                  journal_credentials=sorted({str(e.get("credential")) for e in outcome.turns}))
    (d / FACTS_FILE).write_text(redactor.dumps(facts.to_json(), indent=2), encoding="utf-8")


def read_result(artifacts: Path) -> dict[str, Any] | None:
    """A saved :data:`LANE_RESULT_FILE` (host side: the compat grid reads the outcome class from it)."""
    try:
        data = json.loads((artifacts / LANE_RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
