"""One job in flight (:class:`JobRun`) and what the runner tells the user about it (:class:`Reporter`).

The job is the record every step of :mod:`harness.run.containers` fills in (its container, how its
suite ended, when each step happened, its results), so the steps that live in their own modules
(:mod:`~harness.run.suite_exec`, :mod:`~harness.run.teardown`) share it without importing the runner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from testcontainers.core.container import DockerContainer

from harness.results import CellResult
from harness.run.harvest import JobEnd
from harness.run.plan import JobPlan


@dataclass
class JobRun:
    """One job in flight: its plan, its container, and how it ended (filled in as it goes)."""

    plan: JobPlan
    container_name: str = ""
    kept: bool = False
    orphaned: bool = False  # its container could not be removed (the daemon stopped answering)
    live_dir: Path | None = None  # the staging dir the container writes into
    slots_dir: Path | None = None  # the machine's compute slots, shared by the run's containers
    end: JobEnd = field(default_factory=JobEnd)
    duration_s: float = 0.0
    results: list[CellResult] = field(default_factory=list)
    container: DockerContainer | None = field(default=None, repr=False)
    #: When each step happened (Unix epoch seconds): queued, start, started, exec, plan, finish, exec_end,
    #: stopped (the container removed), harvested; plan/finish come from the suite log. results.json ``timings.jobs``.
    timings: dict[str, float] = field(default_factory=dict)
    suite_cpu_s: float | None = None  # the suite's own count (its FinishLine), when it finished

    def mark(self, name: str) -> None:
        self.timings[name] = round(time.time(), 3)

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def enter_command(self) -> str:
        return f"docker exec -it {self.container_name} bash"


class Reporter(Protocol):
    """What the runner tells the user while it works; the console and CI logs implement it."""

    def job_started(self, job: JobRun) -> None: ...
    def job_progress(self, job: JobRun, done: int) -> None: ...
    def job_finished(self, job: JobRun) -> None: ...
