"""Per-cell results and the one writer of ``results.json``.

Like tox's journal, exactly one module shapes and writes the results file, so the schema promised to
users (``schema: 1``; keys never renamed, only added) lives in one place and every value written passes
the redactor.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.redact import Redactor
from harness.suite.protocol import CellSpec, KnownRegression, TestRecord

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
            "id": self.cell.id,
            "version": self.cell.version,
            "credential": self.cell.credential,
            "policy": self.cell.policy,
            "status": self.status,
            "expected": self.cell.expect,
            "expected_reason": self.cell.expect_reason,
            "duration_s": round(self.duration_s, 3),
            "tests": [asdict(t) for t in self.tests],
            "fingerprint": self.fingerprint,
            "resolver": self.resolver,
            "fixed": self.fixed,
            "xfail": {s: r.to_json() for s, r in self.cell.known.items()},
            "artifacts": self.artifacts,
            "message": self.message,
            "unfinished": self.unfinished,
            "planned": self.planned,
            "lane_s": {s: round(t, 3) for s, t in self.lane_s.items()},
            "scenarios": list(self.cell.scenarios),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellResult:
        """The inverse of :meth:`to_json` (``merge`` reads shards' results.json back through it).

        Derived keys (``id``, ``fixed``) are recomputed, not read. A file written before ``scenarios``
        was added gets them from its tests and lane times, in the order they ran.
        """
        tests = [TestRecord.from_json(t) for t in data.get("tests") or []]
        scenarios = data.get("scenarios")
        if scenarios is None:
            seen = [t.scenario for t in tests if t.scenario] + list(data.get("lane_s") or {})
            scenarios = list(dict.fromkeys(seen))
        cell = CellSpec(
            version=data["version"], credential=data["credential"], policy=data["policy"],
            scenarios=tuple(scenarios), expect=data.get("expected", "native"),
            expect_reason=data.get("expected_reason", ""),
            known={s: KnownRegression.from_json(r) for s, r in (data.get("xfail") or {}).items()},
        )
        return cls(
            cell=cell, status=data["status"], duration_s=float(data.get("duration_s", 0.0)), tests=tests,
            fingerprint=dict(data.get("fingerprint") or {}), resolver=data.get("resolver"),
            artifacts=data.get("artifacts"), message=data.get("message", ""), unfinished=data.get("unfinished"),
            planned=data.get("planned"),
            lane_s={s: float(t) for s, t in (data.get("lane_s") or {}).items()},
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
    return "skip"


@dataclass
class RunResults:
    started: datetime
    duration_s: float
    cells: list[CellResult]
    builds: dict[str, dict[str, Any]] = field(default_factory=dict)  # version -> build fingerprint
    interrupted: bool = False  # stopped by the user (Ctrl-C/SIGTERM): unfinished cells are errors

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
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResults:
        """The inverse of :meth:`to_json`; ``summary`` is derived, so it is recomputed, not read."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, this codex-matrix reads schema {SCHEMA}")
        return cls(
            started=datetime.fromisoformat(data["started"]), duration_s=float(data.get("duration_s", 0.0)),
            cells=[CellResult.from_json(c) for c in data.get("cells") or []],
            builds=dict(data.get("builds") or {}), interrupted=bool(data.get("interrupted", False)),
        )


def write_results(results: RunResults, out_dir: Path, redactor: Redactor | None = None) -> Path:
    """Write ``results.json`` atomically; the redactor is applied to the serialised text."""
    redactor = redactor or Redactor()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(redactor(json.dumps(results.to_json(), indent=2)) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_results(path: Path) -> RunResults:
    """``results.json`` back into RunResults; ``UserError`` (one line, with the fix) when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}: give a directory a run, a shard or "
                        "a tox env wrote (it holds results.json)") from None
    except ValueError as exc:
        raise UserError(f"{path} is not JSON ({exc}): rerun the job that wrote it") from None
    try:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return RunResults.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path} is not a codex-matrix results.json ({type(exc).__name__}: {exc}): "
                        "rerun the job that wrote it with this codex-matrix") from None


def now() -> datetime:
    return datetime.now(UTC)
