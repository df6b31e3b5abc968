"""Running the matrix: ``plan`` (jobs and options), ``containers`` (the suite in per-version containers)
and ``harvest`` (what a container left behind → cell results)."""

from harness.run.containers import run_jobs
from harness.run.harvest import JobEnd, harvest
from harness.run.job import JobRun, Reporter
from harness.run.plan import JobPlan, RunOptions, options_for, plan_jobs

__all__ = ["JobEnd", "JobPlan", "JobRun", "Reporter", "RunOptions", "harvest", "options_for", "plan_jobs", "run_jobs"]
