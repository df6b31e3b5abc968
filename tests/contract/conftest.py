"""Contract-suite plumbing, run INSIDE a per-version container (pytest 7.2, stdlib + harness.lane/fakeapi).

The host hands us the cells for this build in ``$CNM_CELLS`` (JSON). Each test declares which cell
expectations and scenarios it applies to (``@pytest.mark.expects`` / ``@pytest.mark.scenarios``), so
every cell gets exactly the tests that apply and nothing is skipped for bookkeeping. All lane runs start
concurrently right after collection, because the codex processes mostly wait on loopback; tests then
only assert. Per-test outcomes are written to ``$CNM_OUT/results.json`` and streamed to
``$CNM_OUT/progress.jsonl`` for the host's progress display.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cellrun import CellSpec, Outcome, run_cell_scenario

from harness.fakeapi import FakeResponsesAPI
from harness.redact import Redactor

Case = tuple[str, str]  # (cell id, scenario)

_CELLS: dict[str, CellSpec] = {}
_TIMEOUTS: dict[str, float] = {"codex_s": 45.0, "hang_s": 6.0}
_FUTURES: dict[Case, Future[Outcome]] = {}
_RESULTS: dict[str, list[dict[str, Any]]] = {}
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _out_dir() -> Path:
    return Path(os.environ.get("CNM_OUT", "/tmp/cnm-out"))


def _load_spec() -> None:
    path = os.environ.get("CNM_CELLS")
    if not path:
        return
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    _TIMEOUTS.update({k: float(v) for k, v in data.get("timeouts", {}).items()})
    for raw in data["cells"]:
        cell = CellSpec.from_json(raw)
        _CELLS[cell.id] = cell


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "expects(*labels): cell expectations this test applies to")
    config.addinivalue_line("markers", "scenarios(*names): scenarios this test applies to (default: all)")
    _load_spec()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    expects = metafunc.definition.get_closest_marker("expects")
    scen = metafunc.definition.get_closest_marker("scenarios")
    cases: list[Case] = []
    for cell in _CELLS.values():
        if expects and cell.expect not in expects.args:
            continue
        for scenario in cell.scenarios:
            if scen and scenario not in scen.args:
                continue
            cases.append((cell.id, scenario))
    metafunc.parametrize("case", cases, ids=[f"{c}-{s}" for c, s in cases])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a test whose expectations match no cell of this container has nothing to check here: drop it
    # rather than report pytest's "empty parameter set" skip as if something had been skipped
    empty = [i for i in items if getattr(i, "callspec", None) is not None and _case_of(i) is None]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [i for i in items if i not in empty]
    for item in items:
        case = _case_of(item)
        if case is None:
            continue
        xf = _CELLS[case[0]].xfail.get(case[1])
        if xf and (not xf.get("tests") or item.originalname in xf["tests"]):  # type: ignore[attr-defined]
            reason = xf.get("reason") or "known regression"
            if xf.get("link"):
                reason = f"{reason} ({xf['link']})"
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Write how many tests each cell will report, then start every needed lane run now, in test order.

    The plan lets the host tell a finished cell from one cut short by a timeout or a kill.
    """
    cases = [c for c in (_case_of(i) for i in session.items) if c is not None]
    plan: dict[str, int] = {}
    for cell_id, _ in cases:
        plan[cell_id] = plan.get(cell_id, 0) + 1
    out = _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(json.dumps(plan, indent=2), encoding="utf-8")
    needed = list(dict.fromkeys(cases))
    if not needed:
        return
    valid_key = "sk-matrix-" + secrets.token_hex(16)
    redactor = Redactor([valid_key])
    api = FakeResponsesAPI(valid_keys=[valid_key]).start()
    workroot = Path("/var/tmp/cnm")  # not under $TMPDIR: codex refuses helper binaries there
    workers = int(os.environ.get("CNM_WORKERS", "4"))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cell")
    _STATE.update(api=api, pool=pool, redactor=redactor, workroot=workroot)
    for cell_id, scenario in needed:
        _FUTURES[(cell_id, scenario)] = pool.submit(
            run_cell_scenario, _CELLS[cell_id], scenario, api=api, valid_key=valid_key,
            workroot=workroot, out_dir=_out_dir() / "cells", timeouts=_TIMEOUTS, redactor=redactor,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    pool = _STATE.get("pool")
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    api = _STATE.get("api")
    if api is not None:
        api.stop()
    shutil.rmtree(_STATE.get("workroot", "/nonexistent"), ignore_errors=True)
    out = _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        (out / "results.json").write_text(json.dumps(_RESULTS, indent=2), encoding="utf-8")


def _case_of(item: pytest.Item) -> Case | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    case = callspec.params.get("case")
    if not isinstance(case, tuple):  # an empty parameter set yields pytest's NOTSET
        return None
    return case


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    case = _case_of(item)
    if case is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _record(item, case, report)


def _record(item: pytest.Item, case: Case, report: pytest.TestReport) -> None:
    wasxfail = hasattr(report, "wasxfail")
    known = _CELLS[case[0]].xfail.get(case[1]) or {}
    quiet = report.passed and wasxfail and bool(known.get("intermittent"))
    if quiet:  # an intermittent regression that did not show this run is not "fixed"
        wasxfail = False
    if report.passed:
        result = "xpass" if wasxfail else "pass"
    elif report.skipped:
        result = "xfail" if wasxfail else "skip"
    else:
        result = "error" if report.when == "setup" else "fail"
    message = ""
    if result in ("fail", "error"):
        crash = getattr(report.longrepr, "reprcrash", None)
        message = getattr(crash, "message", "") or (report.longreprtext.strip().splitlines() or [""])[-1]
        message = " ".join(message.split())[:600]
    elif wasxfail:
        message = str(getattr(report, "wasxfail", ""))
    elif quiet:
        message = "known intermittent regression did not show this run"
    redactor: Redactor | None = _STATE.get("redactor")
    if redactor is not None:
        message = redactor(message)
    name = item.name.split("[")[0]
    entry = {"name": f"{name}[{case[1]}]", "scenario": case[1], "outcome": result,
             "message": message, "duration_s": round(report.duration, 3)}
    with _LOCK:
        _RESULTS.setdefault(case[0], []).append(entry)
        out = _out_dir()
        out.mkdir(parents=True, exist_ok=True)
        with (out / "progress.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"cell": case[0], **entry}) + "\n")


@pytest.fixture
def outcome(case: Case) -> Outcome:
    """The finished lane run for this test's (cell, scenario)."""
    return _FUTURES[case].result()
