"""CPU seconds spent by a release, so its cost can be judged on a machine other work is also using.

Wall time on a shared 2-core machine says as much about the neighbours as about the release; CPU time
does not. The cell runs' CPU is read from the container's cgroup while it still exists (cgroup v1 and
v2, either Docker cgroup driver); the preparation's host-side CPU (unpacking, hashing, tarring the
build context) is the preparing thread's own CPU time. Both are best effort: None when unreadable.
"""

from __future__ import annotations

from pathlib import Path

from harness.run import JobRun

CGROUP = Path("/sys/fs/cgroup")


def _candidates(container_id: str) -> list[tuple[Path, str]]:
    return [
        (CGROUP / "cpuacct" / "docker" / container_id / "cpuacct.usage", "ns"),
        (CGROUP / "cpuacct" / "system.slice" / f"docker-{container_id}.scope" / "cpuacct.usage", "ns"),
        (CGROUP / "system.slice" / f"docker-{container_id}.scope" / "cpu.stat", "stat"),
        (CGROUP / "docker" / container_id / "cpu.stat", "stat"),
    ]


def container_cpu_s(container_id: str, root: Path | None = None) -> float | None:
    """CPU seconds the container's processes used so far, or None when no cgroup file is readable."""
    for path, kind in _candidates(container_id):
        if root is not None:
            path = root / path.relative_to(CGROUP)
        try:
            text = path.read_text()
        except OSError:
            continue
        try:
            if kind == "ns":
                return int(text.strip()) / 1e9
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
        except ValueError:
            continue
    return None


class CpuMeter:
    """run_jobs' reporter: says nothing (the atlas reports per release) but reads the container's CPU
    seconds on every progress tick, the last of which comes after the suite ended and before the
    container is removed."""

    def __init__(self) -> None:
        self.cpu_s: float | None = None

    def job_started(self, job: JobRun) -> None: ...

    def job_progress(self, job: JobRun, done: int) -> None:
        try:
            wrapped = job.container.get_wrapped_container() if job.container is not None else None
        except Exception:  # not started yet
            wrapped = None
        if wrapped is not None:
            used = container_cpu_s(str(wrapped.id))
            if used is not None:
                self.cpu_s = used

    def job_finished(self, job: JobRun) -> None: ...
