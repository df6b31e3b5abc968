"""Runs the contract suite inside per-version containers; :mod:`harness.run.harvest` reads what they leave.

One container per build (or per cell with ``isolation="cell"``), no network, the package and the
contract suite mounted read-only and a per-container output directory mounted read-write. The
container only sleeps; the suite is exec'd into it under ``timeout -k`` (neither docker-py nor
testcontainers can time out an exec), with a host-side watchdog as a second line. Containers keep
running only when asked to, so a user can ``docker exec`` into exactly the state that failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from harness import assets, labels
from harness.fingerprint import build_fingerprints
from harness.results import CellResult, RunResults, now
from harness.run.harvest import JobEnd, harvest, suite_marks
from harness.run.plan import JobPlan, RunOptions
from harness.suite import protocol

# Ryuk (testcontainers' reaper) is an image from a registry, and none is reachable here; containers are
# removed by this module and, failing that, found by label (`codex-matrix prune`).
testcontainers_config.ryuk_disabled = True


@dataclass
class JobRun:
    """One job in flight: its plan, its container, and how it ended (filled in as it goes)."""

    plan: JobPlan
    container_name: str = ""
    kept: bool = False
    end: JobEnd = field(default_factory=JobEnd)
    duration_s: float = 0.0
    results: list[CellResult] = field(default_factory=list)
    container: DockerContainer | None = field(default=None, repr=False)
    #: When each step happened (Unix epoch seconds): queued, start, started, exec, plan, finish, exec_end,
    #: harvested, stopped; plan/finish come from the suite log. results.json ``timings.jobs``.
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


def run_jobs(plans: list[JobPlan], options: RunOptions, reporter: Reporter) -> RunResults:
    """Run every job; on Ctrl-C (or SIGTERM turned into KeyboardInterrupt) stop at once but lose nothing.

    Jobs not started yet are cancelled, running containers are killed and removed, and the cells that
    did not finish come back as errors next to those that did, so the reports are still written.
    """
    started = now()
    t0 = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    cancel = threading.Event()
    jobs = [JobRun(plan) for plan in plans]
    # the containers that really run at once: they share the cores (the suite sizes its workers from it)
    options = dataclasses.replace(options, jobs=max(1, min(options.jobs, len(plans))))
    pool = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="job")
    for job in jobs:
        job.mark("queued")
    futures = [pool.submit(_run_job, job, options, reporter, run_id, cancel) for job in jobs]
    interrupted = False
    try:
        for fut in futures:
            fut.result()
    except KeyboardInterrupt:
        interrupted = True
        cancel.set()
        for fut in futures:
            fut.cancel()
        for job in jobs:
            _kill_container(job)
    finally:
        pool.shutdown(wait=True)
    for job in jobs:
        if not job.results:  # cancelled before it started
            job.end = JobEnd(interrupted=True)
            job.results = harvest(job.plan.cells, job.plan.raw_dir, job.end)
    cells = [r for job in jobs for r in job.results]
    timings: dict[str, object] = {"jobs": {job.name: job.timings for job in jobs}}
    cpu = {job.name: job.suite_cpu_s for job in jobs if job.suite_cpu_s is not None}
    if cpu:
        timings["suite_cpu_s"] = cpu
    return RunResults(started=started, duration_s=time.monotonic() - t0, cells=cells,
                      builds=build_fingerprints(cells), interrupted=interrupted, timings=timings)


def suite_command(options: RunOptions) -> list[str]:
    """The contract suite, as exec'd into the container, under the container budget."""
    budget = int(options.timeouts.container_s)
    argv = [
        "timeout", "-k", "15", str(budget),
        "python3", "-m", "pytest", protocol.CONTAINER_SUITE_DIR,
        "-p", "no:cacheprovider", "-q", "-rN", "--color=no", f"--rootdir={protocol.CONTAINER_SUITE_DIR}",
    ]
    if options.k_expr:
        argv += ["-k", options.k_expr]
    return argv


def _labels(job: JobRun, run_id: str) -> dict[str, str]:
    return {labels.MANAGED: "true", labels.KIND: "run", labels.VERSION: job.plan.version, labels.RUN: run_id}


def _write_spec(job: JobRun, options: RunOptions) -> None:
    raw = job.plan.raw_dir
    if raw.exists():
        shutil.rmtree(raw)
    raw.mkdir(parents=True)
    spec = protocol.SuiteSpec(
        cells=job.plan.cells,
        timeouts=protocol.SuiteTimeouts(codex_s=options.timeouts.codex_s, hang_s=options.timeouts.hang_s),
        codex=options.codex.model_dump(),
    )
    spec.write(raw)


def _run_job(job: JobRun, options: RunOptions, reporter: Reporter, run_id: str, cancel: threading.Event) -> None:
    _write_spec(job, options)
    job.container_name = f"cnm-{job.name}-{run_id}"
    package_root = f"{protocol.CONTAINER_PACKAGE_ROOT}/harness"
    job.container = container = (
        DockerContainer(job.plan.image)
        .with_name(job.container_name)
        .with_command(["sleep", "infinity"])
        .with_volume_mapping(str(assets.PACKAGE_DIR), package_root, "ro")
        .with_volume_mapping(str(assets.contract_dir()), protocol.CONTAINER_SUITE_DIR, "ro")
        .with_volume_mapping(str(job.plan.raw_dir.resolve()), protocol.CONTAINER_OUT, "rw")
        .with_kwargs(network="none", labels=_labels(job, run_id), init=True, working_dir="/tmp")
    )
    reporter.job_started(job)
    t0 = time.monotonic()
    exit_code: int | None = None
    log_tail = ""
    try:
        job.mark("start")
        container.start()
        job.mark("started")
        if not cancel.is_set():  # else interrupted while the container was starting: run nothing
            exit_code, log_tail = _exec_suite(container, job, options, reporter)
    except Exception as exc:
        log_tail = f"{type(exc).__name__}: {exc}"
    finally:
        job.mark("exec_end")
        timed_out = job.end.timed_out or exit_code in (124, 137)
        job.end = JobEnd(exit_code=exit_code, timed_out=timed_out, interrupted=cancel.is_set(), log_tail=log_tail)
        job.duration_s = time.monotonic() - t0
        job.results = harvest(job.plan.cells, job.plan.raw_dir, job.end)
        marks, job.suite_cpu_s = suite_marks(job.plan.raw_dir)
        job.timings.update(marks)
        job.mark("harvested")
        failing = any(not r.met for r in job.results)
        # an interrupted container is dead or half-run: nothing worth entering, so never kept
        job.kept = not job.end.interrupted and (options.keep == "always" or (options.keep == "failing" and failing))
        if not job.kept:
            with contextlib.suppress(Exception):  # already gone is fine
                container.stop()
        job.mark("stopped")
        reporter.job_finished(job)


def _exec_suite(container: DockerContainer, job: JobRun, options: RunOptions,
                reporter: Reporter) -> tuple[int | None, str]:
    """Exec the suite, stream its output to ``pytest.log``; returns (exit code, last lines of output)."""
    wrapped = container.get_wrapped_container()
    api = wrapped.client.api
    env = {
        protocol.ENV_SPEC: f"{protocol.CONTAINER_OUT}/{protocol.SPEC_FILE}",
        protocol.ENV_OUT: protocol.CONTAINER_OUT,
        protocol.ENV_JOBS: str(options.jobs),
        "PYTHONPATH": protocol.CONTAINER_PACKAGE_ROOT,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    if options.workers is not None:  # else the suite sizes its workers from the machine
        env[protocol.ENV_WORKERS] = str(options.workers)
    job.mark("exec")
    exec_id = api.exec_create(wrapped.id, suite_command(options), environment=env, workdir="/tmp")["Id"]
    stream = api.exec_start(exec_id, stream=True)
    log_path = job.plan.raw_dir / protocol.PYTEST_LOG
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_progress, args=(job, reporter, stop), daemon=True)
    watchdog = threading.Timer(options.timeouts.container_s + 60, _watchdog, args=(job,))
    watcher.start()
    watchdog.start()
    try:
        with log_path.open("wb") as log:
            for chunk in stream:
                log.write(chunk)
    finally:
        watchdog.cancel()
        stop.set()
        watcher.join()
    exit_code = api.exec_inspect(exec_id).get("ExitCode")
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
    return exit_code, "\n".join(tail)


def _watchdog(job: JobRun) -> None:
    """Host-side watchdog: the in-container `timeout` failed to end the suite."""
    job.end = JobEnd(timed_out=True)
    _kill_container(job)


def _kill_container(job: JobRun) -> None:
    """End a running suite now; its job thread then collects what it reported and cleans up."""
    if job.container is None:
        return
    with contextlib.suppress(Exception):  # not started yet, or already gone: nothing more we can do
        job.container.get_wrapped_container().kill()


def _watch_progress(job: JobRun, reporter: Reporter, stop: threading.Event) -> None:
    log = job.plan.raw_dir / protocol.LOG_FILE
    while not stop.wait(0.5):
        reporter.job_progress(job, _count_tests(log))
    reporter.job_progress(job, _count_tests(log))


def _count_tests(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for line in fh if protocol.is_test_line(line))
    except OSError:
        return 0
