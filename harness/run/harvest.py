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

from harness.fingerprint import fingerprint_of, read_cell_facts
from harness.results import CellResult, cell_status
from harness.suite.protocol import (
    CELLS_DIR,
    LOG_FILE,
    RESOLVER_FILE,
    CellSpec,
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


@dataclass(frozen=True)
class CellOutput:
    """One cell's files, read: lane wall times and fingerprint (from its facts), the resolver's answer."""

    present: bool  # the cell wrote an artifacts dir
    lane_s: dict[str, float]
    fingerprint: dict[str, Any]
    resolver: dict[str, Any] | None


@dataclass(frozen=True)
class SuiteOutput:
    """A container's output dir, read once: its suite log's lines and each cell's files.

    The runner judges a job twice (whether it failed, to keep its container; then its final results,
    after the staging dir moved), so the reading is kept apart from the judging: each suite log and
    each facts file is parsed once per job.
    """

    planned: dict[str, int]
    records: dict[str, list[TestRecord]]
    finished: bool
    #: when the suite planned its lane runs and when it finished (epoch seconds), as its log says
    marks: dict[str, float]
    cpu_s: float | None  # the CPU seconds the suite reported at its finish
    cells: dict[str, CellOutput]


def read_output(cells: Sequence[CellSpec], raw_dir: Path) -> SuiteOutput:
    """Read what a container left in ``raw_dir`` for ``cells`` (missing files read as nothing)."""
    records: dict[str, list[TestRecord]] = {}
    planned: dict[str, int] = {}
    marks: dict[str, float] = {}
    cpu: float | None = None
    finished = False
    for line in read_log(raw_dir / LOG_FILE):
        if isinstance(line, PlanLine):
            planned = dict(line.planned)
            if line.time is not None:
                marks["plan"] = line.time
        elif isinstance(line, TestRecord):
            records.setdefault(line.cell, []).append(line)
        elif isinstance(line, FinishLine):
            finished = True
            if line.time is not None:
                marks["finish"] = line.time
            cpu = line.cpu_s
    outputs = {}
    for cell in cells:
        artifacts = raw_dir / CELLS_DIR / cell.id
        facts = read_cell_facts(artifacts)
        outputs[cell.id] = CellOutput(
            present=artifacts.exists(), lane_s=lane_seconds(facts), fingerprint=fingerprint_of(facts),
            resolver=_read_json(artifacts / "ok" / RESOLVER_FILE))
    return SuiteOutput(planned=planned, records=records, finished=finished, marks=marks, cpu_s=cpu, cells=outputs)


def harvest(cells: Sequence[CellSpec], raw_dir: Path, end: JobEnd) -> list[CellResult]:
    """The cells' results from what a container left in ``raw_dir`` (read, then judged)."""
    return judge(cells, read_output(cells, raw_dir), end, raw_dir)


def judge(cells: Sequence[CellSpec], output: SuiteOutput, end: JobEnd, raw_dir: Path) -> list[CellResult]:
    """The cells' results from an output already read; ``raw_dir`` is where its artifacts now are."""
    planned, finished = output.planned, output.finished
    unfinished = _unfinished(end, finished)
    out = []
    for cell in cells:
        tests = output.records.get(cell.id, [])
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
        files = output.cells.get(cell.id) or CellOutput(False, {}, fingerprint_of({}), None)
        out.append(CellResult(
            cell=cell, status=status, duration_s=sum(files.lane_s.values()), lane_s=dict(files.lane_s), tests=tests,
            fingerprint=files.fingerprint, resolver=files.resolver,
            artifacts=str(raw_dir / CELLS_DIR / cell.id) if files.present else None, message=message,
            unfinished=state, planned=want if isinstance(want, int) else None,
        ))
    return out


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


def lane_seconds(facts: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Scenario -> wall time of the cell's lane run for it (its ``facts.json``'s ``wall_s``).

    The contract tests only assert on what a lane run left behind, so their own durations are ≈0: the
    lane run is where a (cell, scenario) spends its time. A scenario without readable facts is absent.
    """
    return {scenario: max(0.0, float(f["wall_s"])) for scenario, f in facts.items()}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
