"""CPU accounting for the benchmark: the whole machine (``/proc/stat``) and this run's own share.

The issue's floor is the machine's: CPU seconds spent by *all* processes (containers included) during
the run, divided by the cores. On a machine shared with other work that figure also holds the others'
CPU, so the benchmark adds the run's own CPU: the harness process tree (``RUSAGE_CHILDREN`` once the
run's process was waited for) plus the CPU of the run's containers, read from their cgroups while they
live (a container's cgroup goes with it). Docker's own daemons are shared and counted in neither.
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class MachineSample:
    """Cumulative CPU seconds of the whole machine since boot, and the load average then."""

    busy_s: float  # user + nice + system + irq + softirq, all cores
    idle_s: float  # idle + iowait
    loadavg: tuple[float, float, float]


def machine_sample(stat: Path = Path("/proc/stat"), loadavg: Path = Path("/proc/loadavg")) -> MachineSample:
    fields = stat.read_text().splitlines()[0].split()
    assert fields[0] == "cpu", fields
    user, nice, system, idle, iowait, irq, softirq = (int(v) for v in fields[1:8])
    load = tuple(float(v) for v in loadavg.read_text().split()[:3])
    return MachineSample((user + nice + system + irq + softirq) / CLOCK_TICKS, (idle + iowait) / CLOCK_TICKS,
                         (load[0], load[1], load[2]))


def children_cpu_s() -> float:
    """User + system CPU of every waited-for descendant of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cgroup_cpu_s(container_id: str, root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPU seconds a running container has used, from its cgroup (v1 cpuacct or v2 cpu.stat), or None."""
    v1 = root / "cpuacct" / "docker" / container_id / "cpuacct.usage"
    with contextlib.suppress(OSError, ValueError):
        return int(v1.read_text()) / 1e9
    for v2 in (root / "system.slice" / f"docker-{container_id}.scope" / "cpu.stat",
               root / "docker" / container_id / "cpu.stat"):
        with contextlib.suppress(OSError, ValueError):
            for line in v2.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
    return None


class ContainerCPU:
    """Polls the CPU of the run containers whose output mount lies under ``out_dir`` (this run's only).

    Keeps the last reading of each container, so a container's CPU after its last poll (at most one
    interval) is missed; the poll interval is short against a container's life (tens of seconds).
    """

    def __init__(self, client: Any, out_dir: Path, label: str, interval_s: float = 0.5) -> None:
        self.client, self.out_dir, self.label, self.interval_s = client, str(out_dir.resolve()), label, interval_s
        self.cpu: dict[str, float] = {}
        self.names: dict[str, str] = {}
        self._foreign: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ContainerCPU:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def total_s(self) -> float:
        return sum(self.cpu.values())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            with contextlib.suppress(Exception):  # the daemon may be busy; the next poll catches up
                self._poll()

    def _poll(self) -> None:
        for entry in self.client.api.containers(filters={"label": self.label}):  # one list call, no inspects
            cid = str(entry["Id"])
            if cid in self._foreign:
                continue
            if cid not in self.names:
                mounts = entry.get("Mounts") or []
                if not any(str(m.get("Source", "")).startswith(self.out_dir) for m in mounts):
                    self._foreign.add(cid)
                    continue
                self.names[cid] = str((entry.get("Names") or [cid])[0]).lstrip("/")
            value = cgroup_cpu_s(cid)
            if value is not None:
                self.cpu[cid] = max(value, self.cpu.get(cid, 0.0))


class EventRecorder:
    """Records Docker's container events live while the run goes (the daemon keeps only its last 256
    events for a later ``since`` query, too few on a busy machine)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.events: list[dict[str, Any]] = []
        self._stream: Any = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> EventRecorder:
        self._stream = self.client.events(decode=True, filters={"type": "container"})
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)  # let the last events (destroy) arrive
        with contextlib.suppress(Exception):
            self._stream.close()
        self._thread.join(5)

    def _loop(self) -> None:
        with contextlib.suppress(Exception):  # closed under our feet: done
            for event in self._stream:
                self.events.append(event)
