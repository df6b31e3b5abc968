"""Scratch directories inside the cache that a killed run cannot leave behind for long.

Work happens in ``<cache>/<prefix><pid>-<random>`` on the same filesystem as the final location, so
finishing is one atomic ``rename`` (and hard links into Docker build contexts work). The owning pid
is part of the name: a later run removes scratch dirs whose owner no longer exists, and never touches
one that belongs to a live concurrent run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.owner import Owner

ORPHAN_AGE_S = 24 * 3600  # scratch dirs whose name carries no pid are removed after a day


def make(root: Path, prefix: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def _owner_alive(name: str, prefix: str) -> bool | None:
    pid_text = name[len(prefix) :].split("-", 1)[0]
    if not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def sweep(root: Path, prefix: str, remove: Callable[[Path], None] | None = None) -> list[Path]:
    """Remove scratch dirs left by dead runs; returns what was removed."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for path in root.iterdir():
        if not path.name.startswith(prefix):
            continue
        alive = _owner_alive(path.name, prefix)
        if alive is None:
            try:
                alive = time.time() - path.lstat().st_mtime < ORPHAN_AGE_S
            except FileNotFoundError:
                continue
        if not alive:
            (remove or discard)(path)
            removed.append(path)
    return removed


def discard(path: Path) -> None:
    """Delete a scratch dir or file; missing is fine (a concurrent sweeper may have been first)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def locked(root: Path, name: str, *, waiting: Callable[[str], None] | None = None,
           what: str = "") -> Iterator[None]:
    """Serialise work on one key across processes (parallel CI jobs sharing one cache and daemon).

    The holder writes who it is (pid, host, start time) into the lock file, so a process that has to
    wait says whom it waits for (through ``waiting``) instead of sitting silent. The kernel drops the
    lock when its holder dies, even by SIGKILL, so a wait never outlives the holder.
    """
    locks = root / ".locks"  # kept apart (and never deleted: unlinking a flock file races)
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / name
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                holder = _holder(path)
                who = holder.describe() if holder is not None else "another process"
                waiting(f"waiting for {what or name}: {who} is working on it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with contextlib.suppress(OSError):  # who holds it is a courtesy, not a requirement
                handle.truncate(0)
                handle.write(json.dumps(Owner.current(_command()).to_json()) + "\n")
                handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(path: Path) -> Owner | None:
    try:
        return Owner.from_json(json.loads(path.read_text(encoding="utf-8")[:4096]))
    except (OSError, ValueError):
        return None


def _command() -> str:
    """The codex-matrix subcommand this process runs (``fetch``, ``build``, ``run``…), for the holder note."""
    import sys

    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    return words[0] if words and words[0].isidentifier() else ""
