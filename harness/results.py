"""Per-cell results and the one writer of ``results.json``.

Like tox's journal, exactly one module shapes and writes the results file, so the schema promised to
users (``schema: 1``; keys never renamed, only added) lives in one place and every value written passes
the redactor. Reading one back is :mod:`harness.incoming.results`' job: a results.json may come from
another machine, so it is checked field by field before anything uses it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.redact import Redactor
from harness.suite.protocol import CellSpec, TestRecord

SCHEMA = 1
STATUSES = ("pass", "fail", "error", "timeout", "xfail", "skip")
MET = frozenset({"pass", "xfail", "skip"})


@dataclass
class CellResult:
    cell: CellSpec
    status: str
    duration_s: float = 0.0
    tests: list[TestRecord] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    resolver: dict[str, Any] | None = None
    artifacts: str | None = None
    message: str = ""
    unfinished: str | None = None  # interrupted | timeout | died: the suite stopped before this cell ended
    planned: int | None = None  # tests the suite planned for this cell
    lane_s: dict[str, float] = field(default_factory=dict)  # scenario -> wall time of its lane run

    @property
    def met(self) -> bool:
        return self.status in MET

    @property
    def fixed(self) -> list[str]:
        """Strict known-regression tests that passed: the regression looks fixed in this build."""
        return [t.name for t in self.tests if t.outcome == "xpass"]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.cell.to_results_json(),
            "status": self.status,
            "duration_s": round(self.duration_s, 3),
            "tests": [asdict(t) for t in self.tests],
            "fingerprint": self.fingerprint,
            "resolver": self.resolver,
            "fixed": self.fixed,
            "artifacts": self.artifacts,
            "message": self.message,
            "unfinished": self.unfinished,
            "planned": self.planned,
            "lane_s": {s: round(t, 3) for s, t in self.lane_s.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellResult:
        """The inverse of :meth:`to_json`; the cell's scenarios are those its tests name, in order."""
        tests = [TestRecord.from_json(t) for t in data.get("tests") or []]
        cell = CellSpec.from_results_json(data, tuple(dict.fromkeys(t.scenario for t in tests if t.scenario)))
        return cls(
            cell=cell, status=data["status"], duration_s=float(data.get("duration_s") or 0.0), tests=tests,
            fingerprint=data.get("fingerprint") or {}, resolver=data.get("resolver"),
            artifacts=data.get("artifacts"), message=data.get("message", ""), unfinished=data.get("unfinished"),
            planned=data.get("planned"), lane_s=dict(data.get("lane_s") or {}),
        )


def cell_status(tests: list[TestRecord]) -> str:
    """A cell meets its expectation when no test failed; known regressions make it ``xfail``."""
    outcomes = Counter(t.outcome for t in tests)
    if not tests:
        return "error"
    if outcomes["fail"] or outcomes["xpass"]:  # a strict known regression that passed is a miss too
        return "fail"
    if outcomes["error"]:
        return "error"
    if outcomes["xfail"]:
        return "xfail"
    if outcomes["pass"]:
        return "pass"
    return "skip"  # nothing passed and nothing failed: every test was skipped or not applicable


@dataclass
class RunResults:
    started: datetime
    duration_s: float
    cells: list[CellResult]
    builds: dict[str, dict[str, Any]] = field(default_factory=dict)  # version -> build fingerprint
    interrupted: bool = False  # stopped by the user (Ctrl-C/SIGTERM): unfinished cells are errors
    run_id: str = ""  # the run containers' label value (labels.RUN), to find this run's containers
    #: Where the time went, for benchmarks: ``images_s``, ``jobs`` (per job: epoch seconds of queued,
    #: start, started, exec, plan, finish, exec_end, stopped, harvested), ``suite_cpu_s`` (per job).
    timings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(c.met for c in self.cells)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.status for c in self.cells)
        out = {s: counts.get(s, 0) for s in STATUSES}
        out["fixed"] = sum(1 for c in self.cells if c.fixed)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "started": self.started.astimezone(UTC).isoformat(),
            "duration_s": round(self.duration_s, 3),
            "cells": [c.to_json() for c in self.cells],
            "builds": self.builds,
            "summary": self.summary(),
            "interrupted": self.interrupted,
            "run_id": self.run_id,
            "timings": self.timings,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResults:
        """The inverse of :meth:`to_json` (the summary is derived, so it is not read back)."""
        return cls(started=datetime.fromisoformat(data["started"]), duration_s=float(data.get("duration_s") or 0.0),
                   cells=[CellResult.from_json(c) for c in data["cells"]], builds=data.get("builds") or {},
                   interrupted=bool(data.get("interrupted")), run_id=str(data.get("run_id") or ""),
                   timings=data.get("timings") or {})


def write_results(results: RunResults, out_dir: Path, redactor: Redactor | None = None) -> Path:
    """Write ``results.json`` atomically; every string is masked before serialising (never the JSON text,
    where a mask next to an escaped quote would break the file)."""
    redactor = redactor or Redactor()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(redactor.dumps(results.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def now() -> datetime:
    return datetime.now(UTC)
