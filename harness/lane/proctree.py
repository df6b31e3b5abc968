"""A running process's descendants and their process groups, read from ``/proc`` (Linux).

Why: codex gives each tool command a process group of its own, so killing codex's group on a timeout
does not reach a command that still runs (see :mod:`harness.lane.seam`). The seam asks here, while codex
is still alive, which groups its descendants are in, and kills those too.

While codex runs, parent links are followed: a process that a descendant double-forked away (re-parented to init
before the snapshot) is not found, but it stays in its group, which is found through the descendant
that created it as long as one member of that group is still a descendant. Where ``/proc`` is missing
(not Linux) the answer is empty and the seam kills codex's own group only, as before. After codex
exited, its session is what ties its leftovers to the run (:func:`session_groups`).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

_PROC = Path("/proc")
_POLL_S = 0.01


def exited(pid: int) -> bool:
    """True once ``pid`` has exited; WNOWAIT leaves it a zombie so its pid (the group id) stays ours."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def wait_exit(pid: int, deadline: float) -> bool:
    """Poll until ``pid`` exits (True) or ``deadline`` (monotonic) passes (False); it is not reaped."""
    while not exited(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


def kill_group(pgid: int, sig: int) -> None:
    """Signal a process group; one already gone (or not ours) is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _stat(pid: str) -> tuple[int, int, int] | None:
    """(ppid, pgid, session) of ``pid`` from ``/proc/<pid>/stat``; None when it is gone or unreadable."""
    try:
        text = (_PROC / pid / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'
    fields = text.rpartition(")")[2].split()
    try:
        return int(fields[1]), int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        return None


def process_table() -> dict[int, tuple[int, int, int]]:
    """pid → (ppid, pgid, session) of every process visible now; empty without ``/proc``."""
    try:
        names = os.listdir(_PROC)
    except OSError:
        return {}
    table = {}
    for name in names:
        if name.isdigit() and (entry := _stat(name)) is not None:
            table[int(name)] = entry
    return table


def descendants(pid: int, table: dict[int, tuple[int, int, int]] | None = None) -> set[int]:
    """Every process whose chain of parents leads to ``pid`` (``pid`` itself excluded)."""
    table = process_table() if table is None else table
    children: dict[int, list[int]] = {}
    for child, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(child)
    found: set[int] = set()
    todo = list(children.get(pid, ()))
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, ()))
    return found


def descendant_groups(pid: int) -> set[int]:
    """The process groups of ``pid``'s descendants (its own group included when one of them is in it)."""
    table = process_table()
    return {table[p][1] for p in descendants(pid, table) if p in table}


def session_groups(sid: int) -> set[int]:
    """The process groups of every process in session ``sid``, found without parent links.

    The seam starts codex in a session of its own (``start_new_session``), and a tool command that codex
    put in a group of its own (``setpgid``, 0.80.0) stays in that session even once its parent exited and
    it was re-parented to init: so after codex exited, its session still names everything it left.
    A command that codex started in a session of its own (``setsid``, 0.117.0+) is not found here; codex
    itself kills those when it exits (measured on 0.98.0, 0.117.0 and 0.169.0).
    """
    return {pgid for _, pgid, session in process_table().values() if session == sid}
