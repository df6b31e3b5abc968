"""Runs the contract suite inside per-version containers and turns what comes back into cell results.

One container per build (or per cell with ``isolation="cell"``), no network, the project mounted
read-only and a per-container output directory mounted read-write. The container only sleeps; the
suite is exec'd into it under ``timeout -k`` (neither docker-py nor testcontainers can time out an
exec), with a host-side watchdog as a second line. Containers keep running only when asked to, so a
user can ``docker exec`` into exactly the state that failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

from testcontainers.core.container import DockerContainer

from harness.fingerprint import build_fingerprints, cell_fingerprint
from harness.matrix import Cell, Timeouts
from harness.results import CellResult, RunResults, TestOutcome, cell_status, now

LABEL_PREFIX = "codex-native-matrix"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
Keep = Literal["failing", "always", "never"]
Isolation = Literal["version", "cell"]
INTERRUPTED = "the run was interrupted before this cell finished"  # message prefix of such cells


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    timeouts: Timeouts
    jobs: int = 1
    keep: Keep = "failing"
    isolation: Isolation = "version"
    workers: int = 4  # concurrent lane runs inside one container
    project_root: Path = PROJECT_ROOT


@dataclass
class Job:
    """One container's worth of cells."""

    name: str
    version: str
    image: str
    cells: list[Cell]
    raw_dir: Path
    container_name: str = ""
    kept: bool = False
    log_tail: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    duration_s: float = 0.0
    results: list[CellResult] = field(default_factory=list)
    container: DockerContainer | None = field(default=None, repr=False)

    @property
    def enter_command(self) -> str:
        return f"docker exec -it {self.container_name} bash"


class Reporter(Protocol):
    """What the runner tells the user while it works; the console and CI logs implement it."""

    def job_started(self, job: Job) -> None: ...
    def job_progress(self, job: Job, done: int, total: int | None) -> None: ...
    def job_finished(self, job: Job) -> None: ...


def plan_jobs(cells: Sequence[Cell], images: dict[str, str], options: RunOptions) -> list[Job]:
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        key = cell.version if options.isolation == "version" else cell.id
        groups.setdefault(key, []).append(cell)
    return [
        Job(name=f"codex{key}" if options.isolation == "version" else key, version=group[0].version,
            image=images[group[0].version], cells=group, raw_dir=options.out_dir / "raw" / key)
        for key, group in groups.items()
    ]


def run_jobs(jobs: list[Job], options: RunOptions, reporter: Reporter) -> RunResults:
    """Run every job; on Ctrl-C (or SIGTERM turned into KeyboardInterrupt) stop at once but lose nothing.

    Jobs not started yet are cancelled, running containers are killed and removed, and the cells that
    did not finish come back as errors next to those that did, so the reports are still written.
    """
    started = now()
    t0 = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="job")
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
            job.interrupted = True
            job.results = collect_results(job)
    cells = [r for job in jobs for r in job.results]
    return RunResults(started=started, duration_s=time.monotonic() - t0, cells=cells,
                      builds=build_fingerprints(cells), interrupted=interrupted)


def _container_cmd(job: Job, options: RunOptions) -> list[str]:
    budget = int(options.timeouts.container_s)
    return [
        "timeout", "-k", "15", str(budget),
        "python3", "-m", "pytest", "/project/tests/contract",
        "-p", "no:cacheprovider", "-q", "-rN", "--color=no",
        "--rootdir=/project/tests/contract", "--junitxml=/out/junit.xml",
    ]


def _labels(job: Job, run_id: str) -> dict[str, str]:
    return {
        f"{LABEL_PREFIX}.managed": "true",
        f"{LABEL_PREFIX}.kind": "run",
        f"{LABEL_PREFIX}.version": job.version,
        f"{LABEL_PREFIX}.run": run_id,
    }


def _write_spec(job: Job, options: RunOptions) -> None:
    if job.raw_dir.exists():
        shutil.rmtree(job.raw_dir)
    job.raw_dir.mkdir(parents=True)
    spec = {
        "cells": [c.to_spec() for c in job.cells],
        "timeouts": {"codex_s": options.timeouts.codex_s, "hang_s": options.timeouts.hang_s},
    }
    (job.raw_dir / "cells.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")


def _run_job(job: Job, options: RunOptions, reporter: Reporter, run_id: str, cancel: threading.Event) -> None:
    _write_spec(job, options)
    job.container_name = f"cnm-{job.name}-{run_id}"
    job.container = container = (
        DockerContainer(job.image)
        .with_name(job.container_name)
        .with_command(["sleep", "infinity"])
        .with_volume_mapping(str(options.project_root), "/project", "ro")
        .with_volume_mapping(str(job.raw_dir.resolve()), "/out", "rw")
        .with_kwargs(network="none", labels=_labels(job, run_id), init=True, working_dir="/tmp")
    )
    reporter.job_started(job)
    t0 = time.monotonic()
    try:
        container.start()
        if not cancel.is_set():  # else interrupted while the container was starting: run nothing
            _exec_suite(container, job, options, reporter)
    except Exception as exc:
        job.log_tail = f"{type(exc).__name__}: {exc}"
    finally:
        job.interrupted = cancel.is_set()
        job.duration_s = time.monotonic() - t0
        job.results = collect_results(job)
        failing = any(not r.met for r in job.results)
        # an interrupted container is dead or half-run: nothing worth entering, so never kept
        job.kept = not job.interrupted and (options.keep == "always" or (options.keep == "failing" and failing))
        if not job.kept:
            with contextlib.suppress(Exception):  # already gone is fine
                container.stop()
        reporter.job_finished(job)


def _exec_suite(container: DockerContainer, job: Job, options: RunOptions, reporter: Reporter) -> None:
    wrapped = container.get_wrapped_container()
    api = wrapped.client.api
    env = {
        "CNM_CELLS": "/out/cells.json",
        "CNM_OUT": "/out",
        "CNM_WORKERS": str(options.workers),
        "PYTHONPATH": "/project",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    exec_id = api.exec_create(wrapped.id, _container_cmd(job, options), environment=env, workdir="/tmp")["Id"]
    stream = api.exec_start(exec_id, stream=True)
    log_path = job.raw_dir / "pytest.log"
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_progress, args=(job, reporter, stop), daemon=True)
    watchdog = threading.Timer(options.timeouts.container_s + 60, _kill, args=(job,))
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
    info = api.exec_inspect(exec_id)
    job.exit_code = info.get("ExitCode")
    if job.exit_code in (124, 137):
        job.timed_out = True
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
    job.log_tail = "\n".join(tail)


def _kill(job: Job) -> None:
    """Host-side watchdog: the in-container `timeout` failed to end the suite."""
    job.timed_out = True
    _kill_container(job)


def _kill_container(job: Job) -> None:
    """End a running suite now; its job thread then collects what it reported and cleans up."""
    if job.container is None:
        return
    with contextlib.suppress(Exception):  # not started yet, or already gone: nothing more we can do
        job.container.get_wrapped_container().kill()


def _watch_progress(job: Job, reporter: Reporter, stop: threading.Event) -> None:
    progress = job.raw_dir / "progress.jsonl"
    total = sum(len(c.scenarios) for c in job.cells)
    while not stop.wait(0.5):
        done = _count_lines(progress)
        reporter.job_progress(job, min(done, total), None)
    reporter.job_progress(job, _count_lines(progress), None)


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0


def collect_results(job: Job) -> list[CellResult]:
    """Turn the container's results.json + artifacts into CellResults; a missing cell is an error.

    A suite that did not finish (timed out, interrupted, or died) leaves only its progress stream. A
    cell counts as finished only when every test the suite planned for it (``plan.json``) reported;
    the others become ``timeout``/``error`` with what they did report kept, never a ``pass``.
    """
    raw: dict[str, list[dict[str, Any]]] = {}
    results_file = job.raw_dir / "results.json"
    progress_file = job.raw_dir / "progress.jsonl"
    if results_file.exists():
        raw = json.loads(results_file.read_text(encoding="utf-8"))
    elif progress_file.exists():  # the suite died before writing results: keep what it reported
        for line in progress_file.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError):  # a line cut short by a kill
                entry = json.loads(line)
                raw.setdefault(entry.pop("cell"), []).append(entry)
    unfinished = _unfinished(job, results_file.exists())
    planned = _read_json(job.raw_dir / "plan.json") or {}
    out = []
    for cell in job.cells:
        tests = [TestOutcome(name=t["name"], outcome=t["outcome"], message=t.get("message", ""),
                             scenario=t.get("scenario"), duration_s=t.get("duration_s", 0.0))
                 for t in raw.get(cell.id, [])]
        status = cell_status(tests)
        message = ""
        want = planned.get(cell.id)
        complete = isinstance(want, int) and want > 0 and len(tests) >= want
        if unfinished is not None and not complete:
            unfinished_status, why = unfinished
            if status != "fail":  # a real failure stays one
                status = unfinished_status
            message = (f"{why}: {len(tests)} of {want if isinstance(want, int) else '?'} tests reported; "
                       f"last output:\n{job.log_tail}")
        elif not tests:
            message = f"no test results for this cell; container output:\n{job.log_tail}"
        artifacts = job.raw_dir / "cells" / cell.id
        fingerprint = cell_fingerprint(artifacts)
        resolver = _read_json(artifacts / "ok" / "resolver.json")
        out.append(CellResult(
            cell=cell, status=status, duration_s=_lane_seconds(artifacts), tests=tests, fingerprint=fingerprint,
            resolver=resolver, artifacts=str(artifacts) if artifacts.exists() else None, message=message,
        ))
    return out


def _unfinished(job: Job, wrote_results: bool) -> tuple[str, str] | None:
    """(status, reason) for the cells of a suite that did not run to its end, else None."""
    if job.interrupted:
        return "error", INTERRUPTED
    if job.timed_out:
        return "timeout", "container suite exceeded its budget"
    if not wrote_results:
        return "error", "the contract suite ended without writing its results"
    return None


def _lane_seconds(artifacts: Path) -> float:
    """Wall time of the cell's lane runs (they run concurrently, so test durations say nothing)."""
    total = 0.0
    for facts in artifacts.glob("*/facts.json"):
        total += float((_read_json(facts) or {}).get("wall_s", 0.0))
    return total


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

