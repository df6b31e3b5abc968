"""Exec'ing the contract suite into a started run container: its log streamed to the host, its progress
reported, and a host-side watchdog behind the in-container ``timeout -k``.

Neither docker-py nor testcontainers can time out an exec, so the suite runs under ``timeout -k`` in the
container and the watchdog here kills the container :data:`WATCHDOG_MARGIN_S` after the budget when that
failed. A full or broken out dir is remembered (one line naming it), the stream still drained.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from testcontainers.core.container import DockerContainer

from harness.run.container_spec import suite_command
from harness.run.harvest import JobEnd
from harness.run.job import JobRun, Reporter
from harness.run.plan import RunOptions
from harness.suite import protocol

#: The host's watchdog kills a suite this long after its budget (the in-container `timeout -k 15` failed).
WATCHDOG_MARGIN_S = 30


def io_problem(exc: OSError, where: Path) -> str:
    """One line for an out dir that could not take a container's files, naming the fix."""
    return (f"the out dir could not take this container's files ({exc.strerror or exc} at "
            f"{exc.filename or where}): free space in it or pass another --out, then rerun")


def exec_suite(container: DockerContainer, job: JobRun, options: RunOptions,
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
    exec_id = api.exec_create(wrapped.id, suite_command(options, job.plan.mounted), environment=env,
                              workdir="/tmp")["Id"]
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
    io_error = io_problem(log.error, log_path) if log.error is not None else ""
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
    kill_container(job)


def kill_container(job: JobRun) -> None:
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
