"""A few cells run once, for the commands that are not ``run``: ``repro``, ``diff`` and each ``bisect`` step.

The same machinery as a matrix run (images, :func:`plan_jobs`, :func:`run_jobs`, :func:`harvest`), with
what those commands need on top: the raw output goes to a directory the caller owns (usually a
temporary one, so nothing is kept unless asked), a run can be repeated N times (``bisect --runs``) as
N containers, and an interrupted run raises ``KeyboardInterrupt`` once its containers are gone, so the
caller stops at once instead of judging half-run cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from harness.fingerprint import build_fingerprints
from harness.results import RunResults
from harness.run.containers import run_jobs
from harness.run.job import Reporter
from harness.run.plan import JobPlan, RunOptions, plan_jobs
from harness.suite.protocol import CellSpec


def repeat_plans(plans: Sequence[JobPlan], runs: int) -> list[JobPlan]:
    """Each plan ``runs`` times, as separate containers with their own raw directories."""
    if runs <= 1:
        return list(plans)
    return [replace(p, name=f"{p.name}-run{i}", raw_dir=p.raw_dir.with_name(f"{p.raw_dir.name}-run{i}"))
            for i in range(1, runs + 1) for p in plans]


def run_cells(cells: Sequence[CellSpec], images: Mapping[str, str], options: RunOptions, reporter: Reporter,
              *, runs: int = 1) -> list[RunResults]:
    """Run ``cells`` ``runs`` times; one RunResults per repetition, in order.

    Raises KeyboardInterrupt when the run was interrupted (its containers are already removed).
    """
    plans = plan_jobs(cells, images, options)
    repeated = repeat_plans(plans, runs)
    results = run_jobs(repeated, options, reporter)
    if results.interrupted:
        raise KeyboardInterrupt
    per_run = len(cells)
    slices = [results.cells[i * per_run:(i + 1) * per_run] for i in range(max(1, runs))]
    return [replace(results, cells=part, builds=build_fingerprints(part)) for part in slices]
