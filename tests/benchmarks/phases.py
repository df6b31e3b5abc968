"""Where a run's time went: phases per container job, and lane runs that compute vs lane runs that wait.

Phases come from the run's own timestamps (``results.json`` ``timings``: host-side per job, plus the
suite log's plan/finish times) when the code under test records them; for older code they come from
Docker's event stream for the run's containers (create, start, exec start/die, destroy), which cannot
split the suite into collection and lane runs. All times are Unix epoch seconds on one clock (the
containers share the host's kernel clock).

A lane run counts as *waiting* when it ended by the lane's own timeout (``facts.json`` ``timed_out``):
the ``hang`` scenario and the legacy build's error scenarios, which by design wait for the timeout
while using no CPU. That is classified from what each run did, so it reads the same on any code; the
benchmark adds the aggregate (lane wall time minus the containers' CPU) as the upper bound of waiting
of every kind (retry back-off, the tool answer held until codex prints the command's completion, …).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Per-job phases, in order: (name, start mark, end mark) over a job's timing marks.
JOB_PHASES: tuple[tuple[str, str, str], ...] = (
    ("container start", "start", "started"),
    ("suite exec, whole (next three)", "exec", "exec_end"),
    ("suite collection", "exec", "plan"),
    ("lane runs", "plan", "finish"),
    ("suite teardown", "finish", "exec_end"),
    ("container removal", "exec_end", "stopped"),
    ("harvest", "stopped", "harvested"),
)


@dataclass
class LaneStats:
    runs: int = 0
    wall_s: float = 0.0
    waiting_runs: int = 0
    waiting_s: float = 0.0
    by_scenario: dict[str, float] = field(default_factory=dict)
    waiting_by_version: dict[str, float] = field(default_factory=dict)
    longest: list[tuple[float, str]] = field(default_factory=list)


def lane_stats(out_dir: Path) -> LaneStats:
    """Sum of lane wall times (facts.json ``wall_s`` per (cell, scenario)) and the share that waited."""
    stats = LaneStats()
    for path in sorted(out_dir.glob("raw/*/cells/*/*/facts.json")):
        try:
            facts = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        wall = float(facts.get("wall_s") or 0.0)
        scenario, cell = path.parent.name, path.parent.parent.name
        stats.runs += 1
        stats.wall_s += wall
        stats.by_scenario[scenario] = stats.by_scenario.get(scenario, 0.0) + wall
        stats.longest.append((wall, f"{cell}/{scenario}"))
        if facts.get("timed_out"):
            stats.waiting_runs += 1
            stats.waiting_s += wall
            version = cell.removeprefix("codex").split("-", 1)[0]
            stats.waiting_by_version[version] = stats.waiting_by_version.get(version, 0.0) + wall
    stats.longest = sorted(stats.longest, reverse=True)[:5]
    return stats


def marks_from_results(results: Mapping[str, Any]) -> dict[str, dict[str, float]] | None:
    """Per-job timing marks recorded by the run itself (``results.json`` ``timings.jobs``), or None."""
    jobs = (results.get("timings") or {}).get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return None
    return {name: {k: float(v) for k, v in marks.items() if isinstance(v, int | float)}
            for name, marks in jobs.items() if isinstance(marks, dict)}


def marks_from_events(events: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Per-job marks from Docker container events of the run's containers (``names``: id -> name)."""
    marks: dict[str, dict[str, float]] = {}
    first = {"create": "start", "start": "started"}
    for event in events:
        cid = str(event.get("id") or event.get("Actor", {}).get("ID", ""))
        if cid not in names:
            continue
        action = str(event.get("Action") or event.get("status") or "")
        when = int(event.get("timeNano") or 0) / 1e9 or float(event.get("time") or 0)
        job = marks.setdefault(names[cid], {})
        verb = action.split(":", 1)[0]
        if verb in first:
            job.setdefault(first[verb], when)
        elif verb == "exec_start":
            job.setdefault("exec", when)
        elif verb == "exec_die":
            job.setdefault("exec_end", when)
        elif verb == "destroy":  # the harvest follows the removal: the events cannot show its end
            job["stopped"] = when
    return marks


def job_phases(marks: Mapping[str, Mapping[str, float]]) -> dict[str, float | None]:
    """Each phase summed over jobs (None when no job has both marks)."""
    out: dict[str, float | None] = {}
    for name, start, end in JOB_PHASES:
        spans = [m[end] - m[start] for m in marks.values() if start in m and end in m]
        out[name] = sum(spans) if spans else None
    return out


def run_span(marks: Mapping[str, Mapping[str, float]]) -> tuple[float, float] | None:
    """(first job start, last job end) over all jobs."""
    starts = [m["start"] for m in marks.values() if "start" in m]
    ends = [m.get("harvested") or m.get("stopped") or m.get("exec_end") or 0.0 for m in marks.values()]
    if not starts or not any(ends):
        return None
    return min(starts), max(ends)
