"""The contract suite's pytest plugin: cells in, one (cell, scenario) lane run per case, records out.

Runs INSIDE a per-version container (python3 + pytest 7.2 + this package). ``tests/contract/conftest.py``
only names this module; its ``pytest_configure`` registers one :class:`ContractSuite` object per session
(as pytest's junitxml does), which owns all state, so nothing lives in module globals.

* The host's :class:`~harness.suite.protocol.SuiteSpec` (``$CNM_SPEC``) gives this build's cells.
* Each test declares the cell expectations, scenarios and policies it applies to
  (``@pytest.mark.kinds`` by property, ``scenarios``, ``policies``; absent = all), so every cell gets exactly
  the tests that apply and nothing is skipped for bookkeeping.
* All lane runs are submitted right after collection, because the codex processes mostly wait on
  loopback; tests then only assert. Runs that wait for the lane's timeout get their own pool and
  start first; the others share compute workers sized from the machine (:mod:`harness.suite.schedule`).
* Known regressions (matrix.yaml ``xfail``) are applied as pytest's own xfail does it, plus a
  ``match`` on the failure message: a failure that does not match stays a failure, and a strict
  regression that passes fails ("fixed: remove the rule").
* Outcomes go to ``$CNM_OUT/suite-log.jsonl`` as they happen (protocol.LOG_FILE), so the host sees
  progress and keeps what was reported even when the container is killed.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from harness.fakeapi import FakeResponsesAPI
from harness.fakeapi.scenarios import SCENARIOS
from harness.lanes.catalog import CAPABILITIES, Capability, applies, parse_lane
from harness.redact import Redactor
from harness.suite.cellrun import Outcome, raw_credential_probe, run_cell_scenario, warm_lane_caches
from harness.suite.expectations import EXPECTATIONS
from harness.suite.lanerun import LaneOutcome, run_lane_scenario
from harness.suite.model import ModelChoice, learn_model
from harness.suite.protocol import (
    CONTAINER_OUT,
    CONTAINER_WORKROOT,
    ENV_JOBS,
    ENV_OUT,
    ENV_SLOTS,
    ENV_SPEC,
    ENV_WORKERS,
    LOG_FILE,
    NOT_APPLICABLE,
    CellSpec,
    FinishLine,
    KnownRegression,
    LogLine,
    PlanLine,
    SuiteSpec,
    SuiteTimeouts,
    TestRecord,
    log_line,
)
from harness.suite.schedule import LanePools, MachineSlots, slots_from_env, workers_from_env
from harness.suite.waits import ends_by_timeout

Case = tuple[str, str]  # (cell id, scenario)
WORKROOT = Path(CONTAINER_WORKROOT)
MAX_MESSAGE = 600


class ContractSuite:
    """All of one session's state: the spec, the fake API, the lane runs in flight, the log."""

    def __init__(self, spec: SuiteSpec, out: Path, workers: int, slots: MachineSlots | None = None) -> None:
        self.cells: dict[str, CellSpec] = {c.id: c for c in spec.cells}
        self.timeouts = spec.timeouts
        self.codex_settings = dict(spec.codex)
        self.out = out
        self.workers = workers
        self.slots = slots
        self.futures: dict[Case, Future[Outcome | LaneOutcome]] = {}
        self.lock = threading.Lock()
        self.api: FakeResponsesAPI | None = None
        self.pools: LanePools | None = None
        self.redactor = Redactor()
        self.model = ModelChoice(None, "not learned yet")

    # -- collection --------------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "case" not in metafunc.fixturenames:
            return
        kinds = metafunc.definition.get_closest_marker("kinds")
        scen = metafunc.definition.get_closest_marker("scenarios")
        policies = metafunc.definition.get_closest_marker("policies")
        needs = declared_needs(metafunc.definition)
        adapter_only = metafunc.definition.get_closest_marker("through_adapter") is not None
        params: list[Any] = []
        for cell in self.cells.values():
            if kinds and not EXPECTATIONS[cell.expect].has(kinds.args):
                continue
            if policies and cell.policy not in policies.args:
                continue
            if adapter_only and not cell.foreign:  # the python lane is judged in process, by its own tests
                continue
            lane = parse_lane(cell.lane)
            marks = [] if applies(needs, lane) else [pytest.mark.not_applicable(
                f"needs {', '.join(sorted(needs - lane.capabilities))}, which {lane.full} does not have "
                f"(it has {', '.join(sorted(lane.capabilities))})")]
            # a world where codex never starts gets only the tests that name it (Scenario.starts_codex)
            params.extend(pytest.param((cell.id, s), id=f"{cell.id}-{s}", marks=marks)
                          for s in cell.scenarios if (s in scen.args if scen else SCENARIOS[s].starts_codex))
        metafunc.parametrize("case", params)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        # a test whose expectations match no cell of this container has nothing to check here: drop it
        # rather than report pytest's "empty parameter set" skip as if something had been skipped
        empty = [i for i in items if getattr(i, "callspec", None) is not None and case_of(i) is None]
        if empty:
            config.hook.pytest_deselected(items=empty)
            items[:] = [i for i in items if i not in empty]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Write how many tests each cell will report, then start every needed lane run now, in test order.

        The plan lets the host tell a finished cell from one cut short by a timeout or a kill.
        """
        cases = [c for c in (case_of(i) for i in session.items) if c is not None]
        applicable = [c for i in session.items if (c := case_of(i)) is not None and not_applicable(i) is None]
        # every cell of the spec is in the plan: 0 says "-k selected none of its tests", not "it never ran"
        planned: dict[str, int] = dict.fromkeys(self.cells, 0)
        for cell_id, _ in cases:
            planned[cell_id] = planned.get(cell_id, 0) + 1
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / LOG_FILE).write_text("", encoding="utf-8")
        self._log(PlanLine(planned, time=time.time()))
        needed = list(dict.fromkeys(applicable))
        if not needed or session.config.option.collectonly:  # --collect-only: the plan, no lane runs
            return
        valid_key = "sk-matrix-" + secrets.token_hex(16)
        self.redactor.add(valid_key)
        self.model = learn_model()
        warm_lane_caches()
        self.api = FakeResponsesAPI(valid_keys=[valid_key]).start()
        self.api.serve_real_hosts()  # auth.openai.com, chatgpt.com: hard-coded by some builds' ChatGPT login
        api = self.api
        # a ChatGPT-login build refreshes its model catalog from the provider: it gets its own entry back
        api.set_models([self.model.entry] if self.model.entry else [])

        def probe(cell: CellSpec) -> list[str]:
            return raw_credential_probe(cell, api=api, valid_key=valid_key, workroot=WORKROOT,
                                        timeout_s=self.timeouts.codex_s, model=self.model.slug,
                                        redactor=self.redactor)

        # the bare-build credential probe: once per (build, credential), reported by each of its ok runs
        probe_for = {(self.cells[c].version, self.cells[c].credential): self.cells[c] for c, s in needed
                     if s == "ok" and not self.cells[c].foreign}
        waiting = [case for case in needed if ends_by_timeout(self.cells[case[0]], case[1])]
        self.pools = LanePools(self.workers, waiting=len(probe_for) + len(waiting), slots=self.slots)
        probes = {key: self.pools.submit(probe, cell, waits=True) for key, cell in probe_for.items()}

        def run(case: Case) -> Outcome | LaneOutcome:
            cell = self.cells[case[0]]
            if cell.foreign:
                return run_lane_scenario(cell, case[1], api=api, valid_key=valid_key, workroot=WORKROOT,
                                         out_dir=self.out, timeouts=self.timeouts, redactor=self.redactor,
                                         model=self.model, provider_settings=self.codex_settings)
            raw = probes.get((cell.version, cell.credential))
            return run_cell_scenario(
                cell, case[1], api=api, valid_key=valid_key, workroot=WORKROOT, out_dir=self.out,
                timeouts=self.timeouts, redactor=self.redactor, model=self.model,
                provider_settings=self.codex_settings, raw_api_saw=raw.result if raw is not None else None,
            )

        for case in waiting:  # first: they start at once and overlap with the compute runs
            self.futures[case] = self.pools.submit(run, case, waits=True)
        for case in needed:
            if case not in self.futures:
                self.futures[case] = self.pools.submit(run, case, waits=False)

    # -- running -----------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """A test the cell's lane cannot be judged by is reported as not applicable, before any fixture
        waits for a lane run (none was started for it)."""
        reason = not_applicable(item)
        if reason is not None:
            pytest.skip(NA_PREFIX + reason)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        made = yield
        report: pytest.TestReport = made.get_result()
        case = case_of(item)
        if case is None:
            return
        known = self.cells[case[0]].known.get(case[1])
        name = item.name.split("[")[0]
        if report.when == "call" and known is not None and known.covers(name):
            apply_known_regression(report, known)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._record(name, case, report, known)

    def _record(self, name: str, case: Case, report: pytest.TestReport, known: KnownRegression | None) -> None:
        wasxfail = getattr(report, "wasxfail", None)
        message = ""
        if report.passed:
            outcome = "pass"
            if known is not None and known.covers(name) and not known.strict:
                message = "known intermittent regression did not show this run"
        elif report.skipped:
            outcome = "xfail" if wasxfail is not None else "skip"
            message = str(wasxfail or _longrepr_message(report))
            if wasxfail is None and NA_PREFIX in message:  # pytest words it "Skipped: <reason>"
                outcome, message = NOT_APPLICABLE, "not applicable: " + message.partition(NA_PREFIX)[2]
        else:
            outcome = "error" if report.when == "setup" else "xpass" if _strict_xpass(report) else "fail"
            message = _longrepr_message(report)
        record = TestRecord(cell=case[0], name=f"{name}[{case[1]}]", scenario=case[1], outcome=outcome,
                            message=self.redactor(" ".join(message.split())[:MAX_MESSAGE]),
                            duration_s=round(report.duration, 3))
        self._log(record)

    def _log(self, line: LogLine) -> None:
        with self.lock, (self.out / LOG_FILE).open("a", encoding="utf-8") as fh:
            fh.write(log_line(line))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.pools is not None:
            self.pools.shutdown()
        if self.api is not None:
            self.api.stop()
        shutil.rmtree(WORKROOT, ignore_errors=True)
        self.out.mkdir(parents=True, exist_ok=True)
        times = os.times()  # this process and every lane run (codex) it waited for
        cpu = times.user + times.system + times.children_user + times.children_system
        self._log(FinishLine(int(exitstatus), time=time.time(), cpu_s=cpu))


_XPASS_STRICT = "[XPASS(strict)] "


def apply_known_regression(report: pytest.TestReport, known: KnownRegression) -> None:
    """Turn a call report into what the known regression makes of it, as pytest's skipping.py does.

    Failed and the message matches (or no ``match``): xfail. Failed otherwise: stays failed, with a note.
    Passed and strict: failed, "fixed: remove the rule". Passed and not strict: stays passed.
    """
    reason = known.reason + (f" ({known.link})" if known.link else "")
    if report.failed:
        message = _longrepr_message(report)
        if known.match is None or re.search(known.match, message):
            report.outcome = "skipped"
            report.wasxfail = reason
        else:
            report.longrepr = (f"failed, but not as the known regression describes (match {known.match!r} "
                               f"not found): {message}")
    elif report.passed and known.strict:
        report.outcome = "failed"
        report.longrepr = (f"{_XPASS_STRICT}known regression did not show: fixed in this build? remove or narrow "
                           f"the xfail rule ({reason})")


def _strict_xpass(report: pytest.TestReport) -> bool:
    return isinstance(report.longrepr, str) and report.longrepr.startswith(_XPASS_STRICT)


def _longrepr_message(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, str):
        return report.longrepr
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[-1])
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(getattr(crash, "message", "") or (report.longreprtext.strip().splitlines() or [""])[-1])


#: How a not-applicable skip is told from any other skip (it becomes the ``n/a`` outcome, never ``skip``).
NA_PREFIX = "codex-matrix: not applicable: "


def declared_needs(definition: Any) -> frozenset[Capability]:
    """The capabilities a contract test declares with ``@pytest.mark.needs(...)``; every test must declare
    them, so a new test can never land on a lane it cannot judge unnoticed."""
    marker = definition.get_closest_marker("needs")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{definition.nodeid}: declare the lane capabilities this test needs, e.g. "
                                f"@pytest.mark.needs(\"projection\") (any of {', '.join(CAPABILITIES)})")
    unknown = [a for a in marker.args if a not in CAPABILITIES]
    if unknown:
        raise pytest.UsageError(f"{definition.nodeid}: unknown capability {unknown[0]!r}: use "
                                f"{', '.join(CAPABILITIES)}")
    return frozenset(marker.args)


def not_applicable(item: pytest.Item) -> str | None:
    """Why ``item`` does not apply to its cell's lane, or None when it does."""
    marker = item.get_closest_marker("not_applicable")
    return str(marker.args[0]) if marker is not None else None


def case_of(item: pytest.Item) -> Case | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    case = callspec.params.get("case")
    if not isinstance(case, tuple):  # an empty parameter set yields pytest's NOTSET
        return None
    return case


SUITE_KEY = pytest.StashKey[ContractSuite]()


@pytest.fixture
def outcome(request: pytest.FixtureRequest, case: Case) -> Outcome | LaneOutcome:
    """The finished lane run for this test's (cell, scenario)."""
    return request.config.stash[SUITE_KEY].futures[case].result()


def pytest_configure(config: pytest.Config) -> None:
    """Register the session's ContractSuite when the host handed us a spec (else: plain collection)."""
    config.addinivalue_line("markers", "kinds(*properties): the expectation kinds this test applies to, by property "
                                       "(harness.suite.expectations.SELECTORS; default all)")
    config.addinivalue_line("markers", "scenarios(*names): scenarios this test applies to (default all)")
    config.addinivalue_line("markers", "policies(*names): completion policies this test applies to (default all)")
    config.addinivalue_line("markers", "needs(*capabilities): lane capabilities the test needs: seam, projection, "
                                       "policy (required; a lane without them gets n/a)")
    config.addinivalue_line("markers", "through_adapter: judges a lane's protocol result (foreign lanes only)")
    config.addinivalue_line("markers", "not_applicable(reason): set by the suite on cases a lane cannot be judged by")
    spec_path = os.environ.get(ENV_SPEC)
    spec = SuiteSpec.read(Path(spec_path)) if spec_path else SuiteSpec((), SuiteTimeouts(45.0, 6.0))
    workers = workers_from_env(os.environ, ENV_WORKERS, ENV_JOBS)
    slots = slots_from_env(os.environ, ENV_SLOTS, ENV_WORKERS)
    suite = ContractSuite(spec, Path(os.environ.get(ENV_OUT, CONTAINER_OUT)), workers, slots)
    config.stash[SUITE_KEY] = suite
    config.pluginmanager.register(suite, "codex-matrix-contract-suite")
