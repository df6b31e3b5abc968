"""Runs the contract suite inside per-version containers; :mod:`harness.run.harvest` reads what they leave.

One container per build (or per cell with ``isolation="cell"``), no network, the package and the
contract suite mounted read-only and a per-container staging directory (``<out>/.live/<run>/<job>``)
mounted read-write. The container only sleeps; the suite is exec'd into it under ``timeout -k``
(neither docker-py nor testcontainers can time out an exec), with a host-side watchdog as a second
line. Containers keep running only when asked to, so a user can ``docker exec`` into exactly the state
that failed.

Nothing outlives its run by accident:

* the container's own command is a finite sleep (the suite's budget plus a margin, see
  :func:`lifetime_s`) and Docker removes it when that ends (``auto_remove``), so even a harness killed
  with SIGKILL leaves nothing running past its deadline; a container kept on purpose is renamed with
  :data:`labels.KEPT_SUFFIX` and lives :data:`KEPT_LIFETIME_S` longer;
* every container is labelled with its owner (host, pid, start time) so any later command removes
  the containers of a run that is gone (:mod:`harness.orphans`);
* once the suite ended, the staging dir is moved to ``raw/<job>``, or copied and deleted when the
  container could not be confirmed gone (a dead daemon): an orphan can never write into ``raw/``.

Binds are ``Mount`` objects, not ``src:dst:mode`` strings, so a path with ``:`` in it works.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
import threading
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from docker.types import Mount
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from harness import assets, labels, outdir
from harness.docker_env import docker_host
from harness.fingerprint import build_fingerprints
from harness.images import seccomp
from harness.owner import Owner
from harness.results import CellResult, RunResults, now
from harness.run.harvest import JobEnd, harvest, suite_marks
from harness.run.plan import JobPlan, RunOptions
from harness.run.transfer import copy_in, copy_out, transfer_mode
from harness.suite import protocol, schedule

# Ryuk (testcontainers' reaper) is an image from a registry, and none is reachable here; containers are
# removed by this module and, failing that, found by label (`codex-matrix prune`).
testcontainers_config.ryuk_disabled = True

#: The host's watchdog kills a suite this long after its budget (the in-container `timeout -k 15` failed).
WATCHDOG_MARGIN_S = 30
#: A container ends by itself this long after its suite's budget: past the watchdog, nothing needs it.
LIFETIME_MARGIN_S = 60
#: How long a removal someone else started (auto_remove after a kill) may take before we stop waiting.
REMOVAL_WAIT_S = 15.0
#: How much longer a container kept for inspection lives (long, but never forever).
KEPT_LIFETIME_S = 24 * 3600
#: Inside a container: its presence makes the lifetime command sleep on (written when it is kept).
KEEP_MARK = "/tmp/.codex-matrix-kept"
#: Beside the jobs' staging dirs in ``<out>/.live/<run>``: the machine's compute slots (suite.schedule).
SLOTS_DIR = ".slots"


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


def run_jobs(plans: list[JobPlan], options: RunOptions, reporter: Reporter, *,
             stop: threading.Event | None = None) -> RunResults:
    """Run every job; when ``stop`` is set (or on Ctrl-C) stop at once but lose nothing.

    Jobs not started yet are cancelled, running containers are killed and removed, and the cells that
    did not finish come back as errors next to those that did, so the reports are still written.
    ``stop`` is how the CLI asks (:class:`harness.interrupts.StopRequests`): a flag, never an exception
    in the middle of cleaning up, so a second Ctrl-C cannot lose anything.
    """
    started = now()
    t0 = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    cancel = threading.Event()
    # the containers that really run at once: they share the cores (the suite sizes its workers from it)
    options = dataclasses.replace(options, jobs=max(1, min(options.jobs, len(plans))))
    slots_dir = _lay_out_slots(options, run_id)
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
            _kill_container(job)
    pool.shutdown(wait=True)
    for fut in futures:
        if not fut.cancelled():
            fut.result()  # a bug in a job thread is not swallowed
    for job in jobs:
        if not job.results:  # cancelled before it started
            job.end = JobEnd(interrupted=True)
            job.results = harvest(job.plan.cells, job.plan.raw_dir, job.end)
    if slots_dir is not None:
        shutil.rmtree(slots_dir, ignore_errors=True)
    with contextlib.suppress(OSError):  # only containers kept for inspection still use their staging dir
        outdir.prune_empty(options.out_dir / outdir.LIVE)
    cells = [r for job in jobs for r in job.results]
    timings: dict[str, object] = {"jobs": {job.name: job.timings for job in jobs}}
    cpu = {job.name: job.suite_cpu_s for job in jobs if job.suite_cpu_s is not None}
    if cpu:
        timings["suite_cpu_s"] = cpu
    return RunResults(started=started, duration_s=time.monotonic() - t0, cells=cells,
                      builds=build_fingerprints(cells), interrupted=interrupted, run_id=run_id,
                      timings=timings)


def _lay_out_slots(options: RunOptions, run_id: str) -> Path | None:
    """The machine's compute budget as slot files every container of the run mounts (see
    :mod:`harness.suite.schedule`), unless ``--workers`` fixed each container's count or the daemon is
    elsewhere (its containers cannot share this machine's locks) or the directory cannot be made."""
    if options.workers is not None or transfer_mode(docker_host()) == "copy":
        return None
    directory = options.out_dir / outdir.LIVE / run_id / SLOTS_DIR
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


def lifetime_s(options: RunOptions) -> int:
    """How long a run container lives unless kept: the suite's budget, then the watchdog, then a margin."""
    return math.ceil(options.timeouts.container_s) + LIFETIME_MARGIN_S


def lifetime_command(options: RunOptions) -> list[str]:
    """The container's own process: sleep until the deadline, longer only if it was kept meanwhile."""
    script = 'sleep "$1"; if [ -e "$3" ]; then exec sleep "$2"; fi'
    return ["sh", "-c", script, "codex-matrix-lifetime", str(lifetime_s(options)), str(KEPT_LIFETIME_S), KEEP_MARK]


def suite_command(options: RunOptions) -> list[str]:
    """The contract suite, as exec'd into the container, under the container budget."""
    budget = math.ceil(options.timeouts.container_s)  # `timeout 0` would mean no timeout at all
    argv = [
        "timeout", "-k", "15", str(budget),
        "python3", "-m", "pytest", protocol.CONTAINER_SUITE_DIR,
        "-p", "no:cacheprovider", "-q", "-rN", "--color=no", f"--rootdir={protocol.CONTAINER_SUITE_DIR}",
    ]
    if options.k_expr:
        argv += ["-k", options.k_expr]
    return argv


def run_labels(job: JobRun, run_id: str, options: RunOptions, owner: Owner | None = None) -> dict[str, str]:
    """What a run container says about itself: project, build, run, owner process and deadline."""
    owner = owner or Owner.current("run")
    deadline = datetime.now(UTC) + timedelta(seconds=lifetime_s(options))
    return {
        labels.MANAGED: "true", labels.KIND: "run", labels.VERSION: job.plan.version, labels.RUN: run_id,
        labels.OWNER_HOST: owner.host, labels.OWNER_PID: str(owner.pid), labels.OWNER_START: owner.start,
        labels.OWNER_INSTANCE: owner.instance, labels.OWNER_STARTED: owner.started,
        labels.DEADLINE: deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _write_spec(job: JobRun, options: RunOptions, live: Path) -> None:
    if live.exists():
        shutil.rmtree(live)
    live.mkdir(parents=True)
    spec = protocol.SuiteSpec(
        cells=job.plan.cells,
        timeouts=protocol.SuiteTimeouts(codex_s=options.timeouts.codex_s, hang_s=options.timeouts.hang_s),
        codex=options.codex.model_dump(),
    )
    spec.write(live)


def _mounts(live: Path, slots: Path | None) -> list[Mount]:
    package_root = f"{protocol.CONTAINER_PACKAGE_ROOT}/harness"
    mounts = [
        Mount(package_root, str(assets.PACKAGE_DIR), type="bind", read_only=True),
        Mount(protocol.CONTAINER_SUITE_DIR, str(assets.contract_dir()), type="bind", read_only=True),
        Mount(protocol.CONTAINER_OUT, str(live.resolve()), type="bind", read_only=False),
    ]
    if slots is not None:  # a lock needs no write: read-only is enough
        mounts.append(Mount(protocol.CONTAINER_SLOTS, str(slots.resolve()), type="bind", read_only=True))
    return mounts


def suite_container(plan: JobPlan, name: str, labels_: dict[str, str], options: RunOptions, live: Path, *,
                    copy: bool = False, slots: Path | None = None) -> DockerContainer:
    """The container a job's suite runs in: no network, the package and the suite read-only, the
    staging dir read-write (or nothing mounted when a remote daemon gets the files copied in), a
    lifetime of its own, and no relaxation but the seccomp profile codex's own sandbox needs
    (:mod:`harness.images.seccomp`), only when a cell runs a sandboxed mode."""
    kwargs: dict[str, Any] = {
        "network": "none", "labels": labels_, "init": True, "working_dir": "/tmp", "auto_remove": True,
        "security_opt": seccomp.security_opt({c.sandbox for c in plan.cells}),
        "hostname": protocol.CONTAINER_HOSTNAME, "extra_hosts": protocol.CONTAINER_HOSTS,
    }
    if not copy:
        kwargs["mounts"] = _mounts(live, slots)
    return DockerContainer(plan.image).with_name(name).with_command(lifetime_command(options)).with_kwargs(**kwargs)


def _run_job(job: JobRun, options: RunOptions, reporter: Reporter, run_id: str, cancel: threading.Event) -> None:
    job.live_dir = live = options.out_dir / outdir.LIVE / run_id / job.plan.raw_dir.name
    job.container_name = f"cnm-{job.name}-{run_id}"
    exit_code: int | None = None
    log_tail = ""
    io_error = ""
    try:
        _write_spec(job, options, live)
    except OSError as exc:
        io_error = _io_problem(exc, live)
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
                copy_in(container.get_wrapped_container(), [
                    (assets.PACKAGE_DIR, f"{protocol.CONTAINER_PACKAGE_ROOT}/harness"),
                    (assets.contract_dir(), protocol.CONTAINER_SUITE_DIR), (live, protocol.CONTAINER_OUT)])
        if not io_error and not cancel.is_set():  # else interrupted while the container was starting
            exit_code, log_tail, io_error = _exec_suite(container, job, options, reporter)
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
        failing = any(not r.met for r in harvest(job.plan.cells, live, job.end))
        # an interrupted container is dead or half-run: nothing worth entering, so never kept
        want_keep = not job.end.interrupted and (options.keep == "always" or (options.keep == "failing" and failing))
        job.kept = want_keep and _mark_kept(job)
        gone = False if job.kept else _remove(job)
        job.mark("stopped")
        job.orphaned = not job.kept and not gone and container.get_wrapped_container() is not None
        job.results = _collect(job, live, move=gone)
        marks, job.suite_cpu_s = suite_marks(live if job.end.io_error else job.plan.raw_dir)
        job.timings.update(marks)
        job.mark("harvested")
        reporter.job_finished(job)


def _io_problem(exc: OSError, where: Path) -> str:
    return (f"the out dir could not take this container's files ({exc.strerror or exc} at "
            f"{exc.filename or where}): free space in it or pass another --out, then rerun")


def _collect(job: JobRun, live: Path, *, move: bool) -> list[CellResult]:
    """Put the staging dir at raw/<job> and harvest it; an orphan's staging dir is copied, then deleted."""
    raw = job.plan.raw_dir
    try:
        outdir.snapshot(live, raw, move=move)
    except OSError as exc:
        job.end = JobEnd(exit_code=job.end.exit_code, timed_out=job.end.timed_out, interrupted=job.end.interrupted,
                         log_tail=job.end.log_tail, io_error=job.end.io_error or _io_problem(exc, raw))
        return harvest(job.plan.cells, live, job.end)
    if not move and not job.kept:  # the container may live on: leave it nothing that is read later
        shutil.rmtree(live, ignore_errors=True)
    return harvest(job.plan.cells, raw, job.end)


def _mark_kept(job: JobRun) -> bool:
    """Rename the container to ``…-kept`` and extend its lifetime; False when the daemon would not."""
    wrapped = job.container.get_wrapped_container() if job.container is not None else None
    if wrapped is None:
        return False
    try:
        wrapped.reload()
        if wrapped.status != "running":
            return False
        name = job.container_name + labels.KEPT_SUFFIX
        wrapped.rename(name)
        done = wrapped.exec_run(["touch", KEEP_MARK])
        if getattr(done, "exit_code", 1) != 0:
            return False
    except Exception:  # docker.errors.*, a dead daemon (requests ConnectionError)
        return False
    job.container_name = name
    return True


def _remove(job: JobRun) -> bool:
    """Remove the job's container; True when it is surely gone (or never started)."""
    import docker.errors

    wrapped = job.container.get_wrapped_container() if job.container is not None else None
    if wrapped is None:
        return True
    try:
        wrapped.remove(force=True, v=True)
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as exc:  # 409 "removal already in progress": auto_remove was first
        # gone only once the daemon finished: until then its image cannot be removed (the atlas does next)
        return exc.status_code == 409 and "in progress" in str(exc) and _wait_gone(wrapped)
    except Exception:  # the daemon stopped answering: the container may still run
        return False
    return True


def _wait_gone(wrapped: Any) -> bool:
    """Poll until a container being removed by someone else is gone; False if it outlives REMOVAL_WAIT_S."""
    import docker.errors

    deadline = time.monotonic() + REMOVAL_WAIT_S
    while time.monotonic() < deadline:
        try:
            wrapped.reload()
        except docker.errors.NotFound:
            return True
        except Exception:  # the daemon stopped answering
            return False
        time.sleep(0.1)
    return False


def _exec_suite(container: DockerContainer, job: JobRun, options: RunOptions,
                reporter: Reporter) -> tuple[int | None, str, str]:
    """Exec the suite, stream its output to ``pytest.log``; returns (exit code, last lines, I/O problem)."""
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
    elif job.slots_dir is not None:  # the whole machine's budget, shared with the run's other containers
        env[protocol.ENV_SLOTS] = protocol.CONTAINER_SLOTS
    job.mark("exec")
    exec_id = api.exec_create(wrapped.id, suite_command(options), environment=env, workdir="/tmp")["Id"]
    stream = api.exec_start(exec_id, stream=True)
    assert job.live_dir is not None
    log_path = job.live_dir / protocol.PYTEST_LOG
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_progress, args=(job, reporter, stop), daemon=True)
    watchdog = threading.Timer(options.timeouts.container_s + WATCHDOG_MARGIN_S, _watchdog, args=(job,))
    watcher.start()
    watchdog.start()
    log = _Log(log_path)
    try:
        for chunk in stream:
            log.write(chunk)
    finally:
        log.close()
        watchdog.cancel()
        stop.set()
        watcher.join()
    exit_code = api.exec_inspect(exec_id).get("ExitCode")
    io_error = _io_problem(log.error, log_path) if log.error is not None else ""
    return exit_code, "\n".join(log.tail()), io_error


class _Log:
    """pytest.log on the host; a full or broken out dir is remembered, the stream still drained."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: OSError | None = None
        self._lines: list[bytes] = []
        self._fh: Any = None
        try:
            self._fh = path.open("wb")
        except OSError as exc:
            self.error = exc

    def write(self, chunk: bytes) -> None:
        self._lines = (self._lines + chunk.splitlines())[-15:]
        if self._fh is None:
            return
        try:
            self._fh.write(chunk)
        except OSError as exc:
            self.error = self.error or exc
            self._drop()

    def close(self) -> None:
        try:
            if self._fh is not None:
                self._fh.close()
        except OSError as exc:
            self.error = self.error or exc
        self._fh = None

    def _drop(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        self._fh = None

    def tail(self) -> list[str]:
        return [line.decode("utf-8", errors="replace") for line in self._lines]


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
    log = (job.live_dir or job.plan.raw_dir) / protocol.LOG_FILE
    while not stop.wait(0.5):
        reporter.job_progress(job, _count_tests(log))
    reporter.job_progress(job, _count_tests(log))


def _count_tests(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for line in fh if protocol.is_test_line(line))
    except OSError:
        return 0
