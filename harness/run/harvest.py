"""What a container left behind → cell results. Pure file reading: no Docker, no job objects.

Takes the cells, the raw output directory and how the container's suite ended (:class:`JobEnd`), so
it can be tested on recorded directories and reused by anything that runs the suite (a rerun, a
bisect step). A cell counts as finished only when every test the suite planned for it reported; the
others become ``timeout``/``error`` with what they did report kept, never a ``pass``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.fingerprint import cell_fingerprint
from harness.results import CellResult, cell_status
from harness.suite.protocol import (
    CELLS_DIR,
    FACTS_FILE,
    LOG_FILE,
    RESOLVER_FILE,
    CellSpec,
    Facts,
    FinishLine,
    PlanLine,
    TestRecord,
    read_log,
)


@dataclass(frozen=True)
class JobEnd:
    """How a container's suite ended, as the host saw it."""

    exit_code: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    log_tail: str = ""
    io_error: str = ""  # the out dir could not take the container's files (full, read-only): nothing is met


def harvest(cells: Sequence[CellSpec], raw_dir: Path, end: JobEnd) -> list[CellResult]:
    records: dict[str, list[TestRecord]] = {}
    planned: dict[str, int] = {}
    finished = False
    for line in read_log(raw_dir / LOG_FILE):
        if isinstance(line, PlanLine):
            planned = dict(line.planned)
        elif isinstance(line, TestRecord):
            records.setdefault(line.cell, []).append(line)
        elif isinstance(line, FinishLine):
            finished = True
    unfinished = _unfinished(end, finished)
    out = []
    for cell in cells:
        tests = records.get(cell.id, [])
        status = cell_status(tests)
        message, state = "", None
        want = planned.get(cell.id)
        complete = isinstance(want, int) and want > 0 and len(tests) >= want
        if unfinished is not None and not complete:
            state, unfinished_status, why = unfinished
            if status != "fail":  # a real failure stays one
                status = unfinished_status
            message = (f"{why}: {len(tests)} of {want if isinstance(want, int) else '?'} tests reported; "
                       f"last output:\n{end.log_tail}")
        elif want == 0 and finished and end.exit_code in _SELECTION_OK:  # `-k` deselected all its tests
            status, message = "skip", "no contract test of this cell was selected (pytest -k)"
        elif not tests:
            message = f"no test results for this cell; container output:\n{end.log_tail}"
        if end.io_error:  # what the suite reported may be whole, but its files are not: never a pass
            if status != "fail":
                status = "error"
            message = end.io_error + (f"\n{message}" if message else "")
        artifacts = raw_dir / CELLS_DIR / cell.id
        lanes = lane_seconds(artifacts)
        out.append(CellResult(
            cell=cell, status=status, duration_s=sum(lanes.values()), lane_s=lanes, tests=tests,
            fingerprint=cell_fingerprint(artifacts), resolver=_read_json(artifacts / "ok" / RESOLVER_FILE),
            artifacts=str(artifacts) if artifacts.exists() else None, message=message, unfinished=state,
            planned=want if isinstance(want, int) else None,
        ))
    return out


def suite_marks(raw_dir: Path) -> tuple[dict[str, float], float | None]:
    """When the suite planned its lane runs and when it finished (epoch seconds, from its log), and
    the CPU seconds it reported at its finish; what the log does not say is absent."""
    marks: dict[str, float] = {}
    cpu: float | None = None
    for line in read_log(raw_dir / LOG_FILE):
        if isinstance(line, PlanLine) and line.time is not None:
            marks["plan"] = line.time
        elif isinstance(line, FinishLine):
            if line.time is not None:
                marks["finish"] = line.time
            cpu = line.cpu_s
    return marks, cpu


#: pytest exit statuses of a suite that collected normally: all passed, some failed, none selected.
_SELECTION_OK = (0, 1, 5)


def _unfinished(end: JobEnd, finished: bool) -> tuple[str, str, str] | None:
    """(state, status, reason) for the cells of a suite that did not run to its end, else None."""
    if end.interrupted:
        return "interrupted", "error", "the run was interrupted before this cell finished"
    if end.timed_out:
        return "timeout", "timeout", "container suite exceeded its budget"
    if not finished:
        return "died", "error", "the contract suite ended without finishing"
    return None


def lane_seconds(artifacts: Path) -> dict[str, float]:
    """Scenario -> wall time of the cell's lane run for it (``<artifacts>/<scenario>/facts.json``'s ``wall_s``).

    The contract tests only assert on what a lane run left behind, so their own durations are ≈0: the
    lane run is where a (cell, scenario) spends its time. A scenario without readable facts is absent.
    """
    out: dict[str, float] = {}
    for path in sorted(artifacts.glob(f"*/{FACTS_FILE}")):
        facts = Facts.read(path)
        if facts is not None:
            out[path.parent.name] = max(0.0, float(facts.wall_s))
    return out


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
