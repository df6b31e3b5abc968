"""Runs the contract suite inside per-version containers, one job per container, all at once.

Each job: write its suite spec, start its container (:mod:`~harness.run.container_spec`), exec the suite
(:mod:`~harness.run.suite_exec`), keep or remove the container (:mod:`~harness.run.teardown`), then read
what it left once (:func:`harness.run.harvest.read_output`) and judge its cells.

One container per build (or per cell with ``isolation="cell"``), no network, the package and the
contract suite mounted read-only and a per-container staging directory (``<out>/.live/<run>/<job>``)
mounted read-write. The container only sleeps; the suite is exec'd into it under ``timeout -k``
(neither docker-py nor testcontainers can time out an exec), with a host-side watchdog as a second
line. Containers keep running only when asked to, so a user can ``docker exec`` into exactly the state
that failed.

Nothing outlives its run by accident:

* the container's own command is a finite sleep (the suite's budget plus a margin, see
  :func:`harness.run.container_spec.lifetime_s`) and Docker removes it when that ends (``auto_remove``),
  so even a harness killed with SIGKILL leaves nothing running past its deadline; a container kept on
  purpose is renamed with :data:`labels.KEPT_SUFFIX` and lives a day longer;
* every container is labelled with its owner (host, pid, start time) so any later command removes
  the containers of a run that is gone (:mod:`harness.orphans`);
* once the suite ended, the staging dir is moved to ``raw/<job>``, or copied and deleted when the
  container could not be confirmed gone (a dead daemon): an orphan can never write into ``raw/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path

from harness import outdir
from harness.docker_env import docker_host
from harness.fingerprint import build_fingerprints
from harness.results import CellResult, RunResults, now
from harness.run.container_spec import run_labels, suite_container
from harness.run.harvest import JobEnd, SuiteOutput, harvest, judge, read_output
from harness.run.job import JobRun, Reporter
from harness.run.plan import JobPlan, RunOptions
from harness.run.suite_exec import exec_suite, io_problem, kill_container
from harness.run.teardown import mark_kept, remove_container, started_container
from harness.run.transfer import copied_trees, copy_in, copy_out, lane_mounts, transfer_mode
from harness.suite import protocol, schedule

#: Beside the jobs' staging dirs in ``<out>/.live/<run>``: the machine's compute slots (suite.schedule).
SLOTS_DIR = ".slots"


def run_jobs(plans: list[JobPlan], options: RunOptions, reporter: Reporter, *,
             stop: threading.Event | None = None, slots: Path | None = None) -> RunResults:
    """Run every job; when ``stop`` is set (or on Ctrl-C) stop at once but lose nothing.

    Jobs not started yet are cancelled, running containers are killed and removed, and the cells that
    did not finish come back as errors next to those that did, so the reports are still written.
    ``stop`` is how the CLI asks (:class:`harness.interrupts.StopRequests`): a flag, never an exception
    in the middle of cleaning up, so a second Ctrl-C cannot lose anything. ``slots``: the machine's
    compute slots laid out by the caller (:func:`lay_out_slots`) and shared with its other runs (the
    atlas's releases side by side); left in place. Without it the run lays out its own.
    """
    started = now()
    t0 = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    cancel = threading.Event()
    # the containers that really run at once: they share the cores (the suite sizes its workers from it)
    options = dataclasses.replace(options, jobs=max(1, min(options.jobs, len(plans))))
    own_slots = slots is None
    slots_dir = lay_out_slots(options, options.out_dir / outdir.LIVE / run_id / SLOTS_DIR) if own_slots else slots
    jobs = [JobRun(plan, slots_dir=slots_dir) for plan in plans]
    pool = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="job")
    for job in jobs:
        job.mark("queued")
    futures = [pool.submit(_run_job, job, options, reporter, run_id, cancel) for job in jobs]
    try:
        finished = _wait_all(futures, stop)
    except KeyboardInterrupt:  # a library caller without StopRequests
        finished = False
    interrupted = not finished
    if interrupted:
        cancel.set()
        for fut in futures:
            fut.cancel()
        for job in jobs:
            kill_container(job)
    pool.shutdown(wait=True)
    for fut in futures:
        if not fut.cancelled():
            fut.result()  # a bug in a job thread is not swallowed
    for job in jobs:
        if not job.results:  # cancelled before it started
            job.end = JobEnd(interrupted=True)
            job.results = harvest(job.plan.cells, job.plan.raw_dir, job.end)
    if slots_dir is not None and own_slots:
        shutil.rmtree(slots_dir, ignore_errors=True)
    with contextlib.suppress(OSError):  # only containers kept for inspection still use their staging dir
        # this run's own dirs only: another run_jobs in the same out dir (the atlas runs releases side by
        # side) may have just made its empty staging dirs; .live itself goes only when nothing is in it
        outdir.prune_empty(options.out_dir / outdir.LIVE / run_id)
        (options.out_dir / outdir.LIVE).rmdir()
    cells = [r for job in jobs for r in job.results]
    timings: dict[str, object] = {"jobs": {job.name: job.timings for job in jobs}}
    cpu = {job.name: job.suite_cpu_s for job in jobs if job.suite_cpu_s is not None}
    if cpu:
        timings["suite_cpu_s"] = cpu
    return RunResults(started=started, duration_s=time.monotonic() - t0, cells=cells,
                      builds=build_fingerprints(cells), interrupted=interrupted, run_id=run_id,
                      timings=timings)


def lay_out_slots(options: RunOptions, directory: Path) -> Path | None:
    """The machine's compute budget as slot files in ``directory``, which every container of the run
    mounts (see :mod:`harness.suite.schedule`), unless ``--workers`` fixed each container's count or the
    daemon is elsewhere (its containers cannot share this machine's locks) or the directory cannot be
    made. The atlas lays them out once for all its releases' runs (``run_jobs(slots=...)``)."""
    if options.workers is not None or transfer_mode(docker_host()) == "copy":
        return None
    try:
        schedule.lay_out_slots(directory, schedule.machine_budget())
    except OSError:
        return None  # each container keeps its fixed share; _run_job reports the staging dir's problem
    return directory


def _wait_all(futures: list[Future[None]], stop: threading.Event | None) -> bool:
    """Wait for every job; False as soon as ``stop`` is set (polled, so signals are handled promptly)."""
    pending = set(futures)
    while pending:
        if stop is not None and stop.is_set():
            return False
        done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
        for fut in done:
            if fut.exception() is not None:
                return True  # a bug: stop waiting, run_jobs re-raises it after the pool is shut down
    return True


def _write_spec(job: JobRun, options: RunOptions, live: Path) -> None:
    if live.exists():
        shutil.rmtree(live)
    for attempt in range(3):  # a parent another run was removing as it emptied (see run_jobs): make it again
        try:
            live.mkdir(parents=True)
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    spec = protocol.SuiteSpec(
        cells=job.plan.cells,
        timeouts=protocol.SuiteTimeouts(codex_s=options.timeouts.codex_s, hang_s=options.timeouts.hang_s),
        codex=options.codex.model_dump(),
    )
    spec.write(live)


def _run_job(job: JobRun, options: RunOptions, reporter: Reporter, run_id: str, cancel: threading.Event) -> None:
    job.live_dir = live = options.out_dir / outdir.LIVE / run_id / job.plan.raw_dir.name
    job.container_name = f"cnm-{job.name}-{run_id}"
    exit_code: int | None = None
    log_tail = ""
    io_error = ""
    try:
        _write_spec(job, options, live)
    except OSError as exc:
        io_error = io_problem(exc, live)
    # a daemon elsewhere cannot mount this machine's paths: the files are copied in and out instead
    copy = transfer_mode(docker_host()) == "copy"
    job.container = container = suite_container(job.plan, job.container_name, run_labels(job, run_id, options),
                                                options, live, copy=copy, slots=job.slots_dir)
    reporter.job_started(job)
    t0 = time.monotonic()
    try:
        if not io_error:
            job.mark("start")
            container.start()
            job.mark("started")
            if copy:
                copy_in(container.get_wrapped_container(), copied_trees(job.plan, live, lane_mounts(job.plan, options)))
        if not io_error and not cancel.is_set():  # else interrupted while the container was starting
            exit_code, log_tail, io_error = exec_suite(container, job, options, reporter)
    except Exception as exc:
        log_tail = f"{type(exc).__name__}: {exc}"
    finally:
        job.mark("exec_end")
        if copy:  # what the suite wrote, also after a timeout or an interrupt
            with contextlib.suppress(Exception):
                copy_out(container.get_wrapped_container(), protocol.CONTAINER_OUT, live)
        timed_out = job.end.timed_out or exit_code in (124, 137)
        job.end = JobEnd(exit_code=exit_code, timed_out=timed_out, interrupted=cancel.is_set(), log_tail=log_tail,
                         io_error=io_error)
        job.duration_s = time.monotonic() - t0
        output = read_output(job.plan.cells, live)  # the one reading of the suite log and facts files
        failing = any(not r.met for r in judge(job.plan.cells, output, job.end, live))
        # an interrupted container is dead or half-run: nothing worth entering, so never kept
        want_keep = not job.end.interrupted and (options.keep == "always" or (options.keep == "failing" and failing))
        job.kept = want_keep and mark_kept(job)
        gone = False if job.kept else remove_container(job)
        job.mark("stopped")
        job.orphaned = not job.kept and not gone and started_container(job) is not None
        job.results = _collect(job, live, output, move=gone)
        job.suite_cpu_s = output.cpu_s
        job.timings.update(output.marks)
        job.mark("harvested")
        reporter.job_finished(job)


def _collect(job: JobRun, live: Path, output: SuiteOutput, *, move: bool) -> list[CellResult]:
    """Put the staging dir at raw/<job> and judge its cells there; an orphan's staging dir is copied,
    then deleted. ``output`` is what was read from the staging dir: the move copies the same files."""
    raw = job.plan.raw_dir
    try:
        outdir.snapshot(live, raw, move=move)
    except OSError as exc:
        job.end = JobEnd(exit_code=job.end.exit_code, timed_out=job.end.timed_out, interrupted=job.end.interrupted,
                         log_tail=job.end.log_tail, io_error=job.end.io_error or io_problem(exc, raw))
        return judge(job.plan.cells, output, job.end, live)
    if not move and not job.kept:  # the container may live on: leave it nothing that is read later
        shutil.rmtree(live, ignore_errors=True)
    return judge(job.plan.cells, output, job.end, raw)
