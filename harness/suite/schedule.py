"""How the contract suite schedules its lane runs: waits apart from compute, workers sized from the machine.

Standard library only: runs inside the per-version containers.

**Waits don't hold cores.** A lane run the contract expects to end only by the lane's own timeout
(:func:`harness.suite.waits.ends_by_timeout`: the ``hang`` scenario with a key the API accepts, and
on a legacy build that never exits after an error every scenario it cannot complete) sleeps on loopback for the whole
timeout and uses no core. In the compute pool it would hold a worker that long while cores idle, so
such runs get their own pool, one thread each, submitted first: they overlap with the compute runs
instead of queueing among them.
Which pool a run is in changes when it starts, never its timeout or what it is checked against.

**Compute workers from the machine.** A lane run that computes still spends most of its wall time
waiting too (codex's start-up, loopback round trips, one retry's back-off, the tool answer held until
codex printed the command's completion): :data:`RUNS_PER_CORE` of them keep one core busy. The
containers that run at once (the host's ``-j``, passed as ``CNM_JOBS``) share the cores, and memory
caps the count (:data:`RUN_MEMORY_BYTES` per run). ``run --workers`` (``CNM_WORKERS``) overrides it.

**One budget for the machine, not a share per container.** A fixed share (the cores' runs split over
the containers at once) idles cores whenever fewer containers run than were counted: at the start,
while legacy builds mostly wait, and at the end, when the last (newest, costliest) build runs alone on
a third of the machine. So the host lays out the machine's budget as slot files in a directory it
mounts into every container (``CNM_SLOTS``, :func:`lay_out_slots`); a compute run holds one slot, by an
advisory lock, for as long as it runs (:class:`MachineSlots`). Whichever containers are running share
the whole budget; locks are released by the kernel when a process dies, so a killed container frees
its slots. A daemon elsewhere gets no mount and its containers keep the fixed share.
"""

from __future__ import annotations

import fcntl
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

#: Compute lane runs in flight per core. A run's CPU hardly depends on the machine (0.15-0.2 s: codex
#: 0.117.0 measured per run with getrusage, the suite's own share about 0.03 s); its wall time on an idle
#: machine is about 0.4-0.5 s on average (the default matrix on 2 idle cores: 560 runs, 84 s CPU, ~180 s
#: of lane time outside hang and the legacy build), more for the retry scenarios' back-off. So one run
#: keeps about a third of a core busy.
RUNS_PER_CORE = 3
#: Memory one lane run may hold at its peak: 0.169.0's codex reaches about 150 MB resident, plus the
#: suite's share (transcripts, journal). Only bites on small machines.
RUN_MEMORY_BYTES = 300 << 20
#: How often a compute run looks for a free machine slot again (a run lasts 0.3 s and more).
SLOT_POLL_S = 0.02
SLOT_PREFIX = "slot-"

T = TypeVar("T")


def compute_workers(cores: int, containers: int, memory_bytes: int | None) -> int:
    """Compute lane runs at once in one of ``containers`` containers sharing ``cores`` and ``memory_bytes``."""
    by_cpu = math.ceil(max(1, cores) * RUNS_PER_CORE / max(1, containers))
    if memory_bytes is not None:
        by_cpu = min(by_cpu, memory_bytes // max(1, containers) // RUN_MEMORY_BYTES)
    return max(1, by_cpu)


def usable_cores() -> int:
    """Cores this process may run on (affinity, then a cgroup CPU quota when one is set)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else max(1, cores)


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]  # v2: "max 100000" or "200000 100000"
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())  # v1: -1 = none
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def available_memory(meminfo: Path = Path("/proc/meminfo"), root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes available to new processes: MemAvailable, or the cgroup limit when that is lower."""
    found: list[int] = []
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit in (root / "memory.max", root / "memory" / "memory.limit_in_bytes"):
        try:
            value = limit.read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:  # v1 says "no limit" with a huge number
            found.append(int(value))
    return min(found) if found else None


def workers_from_env(env: Mapping[str, str], workers_var: str, jobs_var: str) -> int:
    """``workers_var`` when the user set it (``run --workers``), else sized from this machine."""
    explicit = env.get(workers_var, "").strip()
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    jobs = env.get(jobs_var, "").strip()
    return compute_workers(usable_cores(), int(jobs) if jobs.isdigit() else 1, available_memory())


def machine_budget() -> int:
    """Compute lane runs at once on this whole machine: what one container alone would run."""
    return compute_workers(usable_cores(), 1, available_memory())


def lay_out_slots(directory: Path, count: int) -> None:
    """Create ``count`` slot files in ``directory`` (the host does, before any container starts)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(max(1, count)):
        (directory / f"{SLOT_PREFIX}{i:03d}").touch()


class MachineSlots:
    """The machine's compute budget, shared by every container that mounts the same slot directory.

    A slot is held by an exclusive ``flock`` on its file, so any process on the host kernel sees it,
    across containers and bind mounts, and a dead holder's lock goes with it."""

    def __init__(self, directory: Path) -> None:
        self.paths = sorted(directory.glob(f"{SLOT_PREFIX}*"))
        if not self.paths:
            raise ValueError(f"{directory} holds no slot files")

    def acquire(self) -> int:
        """Block until a slot is free; returns the open descriptor that holds it."""
        order = list(self.paths)
        while True:
            random.shuffle(order)  # no container's threads always try the same slots first
            for path in order:
                fd = os.open(path, os.O_RDONLY)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                return fd
            time.sleep(SLOT_POLL_S)

    @staticmethod
    def release(fd: int) -> None:
        os.close(fd)  # closing the only descriptor drops the lock

    def hold(self, fn: Callable[..., T], *args: Any) -> T:
        fd = self.acquire()
        try:
            return fn(*args)
        finally:
            self.release(fd)


def slots_from_env(env: Mapping[str, str], slots_var: str, workers_var: str) -> MachineSlots | None:
    """The host's slot directory, unless the user fixed the workers (``run --workers``) or none is mounted."""
    if env.get(workers_var, "").strip():
        return None
    directory = env.get(slots_var, "").strip()
    if not directory or not Path(directory).is_dir():
        return None
    try:
        return MachineSlots(Path(directory))
    except ValueError:
        return None


class LanePools:
    """Two executors: ``workers`` threads for compute runs, and one thread for each of ``waiting`` runs
    that only wait. Submit the waiting runs first, so they start at once and overlap with the compute
    runs instead of holding compute workers. With ``slots``, ``workers`` is the machine's whole budget
    and a compute run also holds one machine slot while it runs."""

    def __init__(self, workers: int, waiting: int, slots: MachineSlots | None = None) -> None:
        self.slots = slots
        self.workers = len(slots.paths) if slots is not None else max(1, workers)
        self.compute = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="lane")
        self.wait = ThreadPoolExecutor(max_workers=max(1, waiting), thread_name_prefix="wait")

    def submit(self, fn: Callable[..., T], *args: Any, waits: bool) -> Future[T]:
        if waits:
            return self.wait.submit(fn, *args)
        if self.slots is not None:
            return self.compute.submit(self.slots.hold, fn, *args)
        return self.compute.submit(fn, *args)

    def shutdown(self) -> None:
        for pool in (self.wait, self.compute):
            pool.shutdown(wait=True, cancel_futures=True)
