"""Who owns a lock, an out dir or a container: host, pid and the process's start time.

A pid alone cannot say whether its process is gone (pids are reused), so an owner is recorded with the
kernel's start time of that process (``/proc/<pid>/stat``, clock ticks since boot) and the identity of
the kernel and pid namespace it lives in. Another process can then tell, without any daemon of its
own, that an owner is gone: same host, same kernel boot and pid namespace, and either no process with
that pid or one that started at another time. An owner on another host (or in another pid namespace)
is never declared gone: it cannot be checked from here, so it is left alone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Owner:
    host: str  # socket.gethostname()
    pid: int
    start: str  # "<ticks since boot>" of the process, "" when /proc cannot tell
    instance: str  # "<kernel boot id>/<pid namespace>": where ``pid`` and ``start`` mean something
    started: str  # the process's start as UTC ISO 8601, for people
    command: str = ""  # the codex-matrix subcommand, for people

    @classmethod
    def current(cls, command: str = "") -> Owner:
        pid = os.getpid()
        return cls(host=socket.gethostname(), pid=pid, start=_start_ticks(pid), instance=_instance(),
                   started=_started_iso(pid), command=command)

    def alive(self) -> bool | None:
        """True/False when this host can tell, None when the owner lives elsewhere (never reap those)."""
        if self.host != socket.gethostname() or self.instance != _instance():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists, belongs to someone else
        return not (self.start and _start_ticks(self.pid) != self.start)

    def describe(self) -> str:
        """``pid 1234 on ci-runner-7, started 2026-11-30T16:36:59Z`` (+ the subcommand when known)."""
        what = f"`codex-matrix {self.command}`, " if self.command else ""
        return f"{what}pid {self.pid} on {self.host}, started {self.started or 'at an unknown time'}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Owner | None:
        """The owner recorded in ``data``; None for anything malformed (a damaged or foreign file)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(host=str(data["host"]), pid=int(data["pid"]), start=str(data.get("start", "")),
                       instance=str(data.get("instance", "")), started=str(data.get("started", "")),
                       command=str(data.get("command", "")))
        except (KeyError, TypeError, ValueError):
            return None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
    return text.rpartition(")")[2].split()


def _start_ticks(pid: int) -> str:
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else ""  # field 22 of proc(5)


def _started_iso(pid: int) -> str:
    ticks = _start_ticks(pid)
    if not ticks:
        return ""
    try:
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        started = time.time() - uptime + int(ticks) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return ""
    return datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instance() -> str:
    boot = ""
    with contextlib.suppress(OSError), open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
        boot = fh.read().strip()
    pidns = ""
    with contextlib.suppress(OSError):
        pidns = os.readlink("/proc/self/ns/pid")
    return f"{boot}/{pidns}"
