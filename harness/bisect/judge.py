"""One bisect step's runs → its verdict, as ``git bisect run`` reads an exit code.

A run *missed* when a selected cell failed its expectation, *met* when every cell met it, and *errored*
when a cell could not be judged (the suite died, timed out, or a test errored in its set-up): a run
that errors says nothing about the build, so a step whose runs all errored is skipped, as
``git bisect skip`` does. With ``--runs N`` a step counts as missed if any run missed (an intermittent
behaviour shows in some runs only), and the counts are kept for the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from harness.bisect.search import Verdict
from harness.bisect.terms import Terms
from harness.results import RunResults

RunClass = Literal["met", "missed", "error"]


@dataclass(frozen=True)
class RunCounts:
    met: int = 0
    missed: int = 0
    error: int = 0

    def __str__(self) -> str:
        parts = [f"{n} {name}" for name, n in (("missed", self.missed), ("met", self.met), ("errored", self.error))
                 if n]
        return ", ".join(parts) or "no runs"


@dataclass
class StepOutcome:
    """What one step showed; ``detail`` names the first miss (or error), ``reason`` why a step was skipped."""

    version: str
    verdict: Verdict
    counts: RunCounts = field(default_factory=RunCounts)
    detail: str = ""
    reason: str = ""
    cells: dict[str, str] = field(default_factory=dict)  # cell id → status, in the first run that missed (or run 1)
    duration_s: float = 0.0
    container_runs: int = 0
    resumed: bool = False  # read back from bisect.jsonl, not run now

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("resumed")
        data["counts"] = asdict(self.counts)
        return {"kind": "step", **data}


def classify(results: RunResults) -> tuple[RunClass, str]:
    """Whether one run of the step's cells met, missed or could not be judged, with the first reason."""
    missed = [r for r in results.cells if r.status == "fail"]
    if missed:
        r = missed[0]
        test = next((t for t in r.tests if t.outcome in ("fail", "xpass")), None)
        return "missed", f"{r.cell.id}: {test.name}: {test.message}" if test else f"{r.cell.id}: {r.status}"
    if not results.cells:
        return "error", "no cell ran"
    errored = [r for r in results.cells if not r.met]
    if errored:
        first = errored[0]
        failed = next((t for t in first.tests if t.outcome == "error"), None)
        lines = first.message.strip().splitlines() or [first.status]
        why = f"{failed.name}: {failed.message}" if failed else lines[0]
        return "error", f"{first.cell.id}: {first.status}: {why}"
    return "met", ""


def judge_runs(version: str, runs: Sequence[RunResults], terms: Terms, duration_s: float = 0.0) -> StepOutcome:
    """The step's verdict: new/old by the terms when any run missed / every judged run met; else skip."""
    classes = [classify(r) for r in runs]
    counts = RunCounts(met=sum(c == "met" for c, _ in classes), missed=sum(c == "missed" for c, _ in classes),
                       error=sum(c == "error" for c, _ in classes))
    first_miss = next((i for i, (c, _) in enumerate(classes) if c == "missed"), None)
    shown = first_miss if first_miss is not None else 0
    cells = {r.cell.id: r.status for r in runs[shown].cells} if runs else {}
    if counts.missed:
        return StepOutcome(version, terms.verdict(True), counts, classes[shown][1], cells=cells,
                           duration_s=duration_s, container_runs=len(runs))
    if counts.met:
        errors = next((d for c, d in classes if c == "error"), "")
        return StepOutcome(version, terms.verdict(False), counts, errors, cells=cells, duration_s=duration_s,
                           container_runs=len(runs))
    reason = classes[0][1] if classes else "no run"
    return StepOutcome(version, "skip", counts, reason, reason=f"the run errored: {reason}", cells=cells,
                       duration_s=duration_s, container_runs=len(runs))
