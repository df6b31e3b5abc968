"""The out dir of a run: owned, locked, cleared and written so that nothing is lost and nothing lies.

``run --out DIR`` and ``merge … --out DIR`` delete and rewrite files in DIR, so DIR must be one the
tool owns:

* **Ownership.** ``run`` writes a marker file (:data:`MARKER`, JSON with a schema) into DIR. A DIR that
  is not empty and carries no marker is refused with one line and left untouched — a photo folder
  passed by mistake keeps its photos. An out dir written before the marker existed is recognised by
  its files (a ``results.json`` of schema 1 and nothing but report files).
* **One run at a time.** The run holds an exclusive ``flock`` on DIR itself for its whole length (no
  lock file to go stale: the kernel drops the lock when the process dies, even by SIGKILL). A second
  run on DIR gets one line naming the holder (pid, host, start time, read from the marker).
* **Writable before any work.** Claiming writes the marker, so a read-only, full or invalid DIR fails
  in the first second, before images are prepared.
* **No stale reports.** :meth:`OutDir.clear_previous` removes the previous run's reports, ``raw/``
  and the containers' staging dirs before any container starts, so a failed run never leaves an old
  "every cell met its expectation" next to new raw files.
* **Reports appear whole or not at all.** :meth:`OutDir.publish_reports` writes them into a scratch
  dir inside DIR and renames each into place.

Containers never write into ``raw/`` directly: each one mounts its own staging dir under
:data:`LIVE` (``.live/<run>/<job>``); once its suite has ended, the staging dir is moved (or, when the
container may still be alive, copied) to ``raw/<job>``. A container orphaned by a dead Docker daemon
therefore cannot change ``raw/`` after ``results.json`` was written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.errors import UserError, from_os_error
from harness.owner import Owner

MARKER = ".codex-matrix-out.json"
MARKER_SCHEMA = 1
TOOL = "codex-native-matrix"
RAW = "raw"
LIVE = ".live"
REPORTS = ("results.json", "junit.xml", "report.md", "report.html")
_SCRATCH_PREFIX = ".reports-"
# What a codex-matrix out dir written before the marker existed can hold.
_LEGACY_NAMES = {*REPORTS, RAW, "results.json.tmp"}
_CRASH_PREFIX = "codex-matrix-crash-"


class OutDir:
    """A claimed (locked, marked) out dir; use :meth:`claim` as a context manager."""

    def __init__(self, path: Path, fd: int, owner: Owner, created: bool) -> None:
        self.path = path
        self.owner = owner
        self._fd: int | None = fd
        self._created = created
        self._used = False

    # -- claiming ---------------------------------------------------------------------------------

    @classmethod
    def claim(cls, path: Path, owner: Owner | None = None) -> OutDir:
        """Lock ``path`` (creating it if absent), check it is ours and writable, mark it."""
        owner = owner or Owner.current("run")
        try:
            return cls._claim(path, owner)
        except OSError as exc:
            raise _os_error(exc, f"--out {path}") from None

    @classmethod
    def _claim(cls, path: Path, owner: Owner) -> OutDir:
        if path.exists() and not path.is_dir():
            raise UserError(f"--out {path} is a file, not a directory: pass a directory (it is created if absent)")
        created = not path.exists()
        if created:
            path.mkdir(parents=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = read_marker(path)
                who = holder.describe() if holder is not None else "a process that left no marker"
                raise UserError(f"--out {path} is in use by another codex-matrix run ({who}): wait for it to "
                                "end, or pass another --out") from None
            problem = foreign_content(path)
            if problem:
                raise UserError(f"--out {path} is not empty and was not written by codex-matrix ({problem}): "
                                "nothing was changed; pass a new or empty directory")
            write_marker(path, owner)
        except BaseException:
            os.close(fd)
            if created:
                with contextlib.suppress(OSError):
                    (path / MARKER).unlink(missing_ok=True)
                    path.rmdir()
            raise
        return cls(path, fd, owner, created)

    def release(self) -> None:
        """Drop the lock; a dir this run created and never used is removed again (nothing leaked)."""
        if self._fd is None:
            return
        if self._created and not self._used:
            with contextlib.suppress(OSError):
                (self.path / MARKER).unlink(missing_ok=True)
                self.path.rmdir()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> OutDir:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    # -- using ------------------------------------------------------------------------------------

    @property
    def raw(self) -> Path:
        return self.path / RAW

    def live(self, run_id: str) -> Path:
        """Where this run's containers write (one subdir per job), until their output is moved to raw/."""
        return self.path / LIVE / run_id

    def clear_previous(self) -> None:
        """Remove the previous run's reports, raw files and staging dirs (never anything else)."""
        self._used = True
        try:
            for name in REPORTS:
                (self.path / name).unlink(missing_ok=True)
            (self.path / "results.json.tmp").unlink(missing_ok=True)
            for child in self.path.iterdir():
                if child.name.startswith(_SCRATCH_PREFIX):
                    _remove(child)
            for name in (RAW, LIVE):
                _remove(self.path / name)
        except OSError as exc:
            raise _os_error(exc, f"clearing the previous run from --out {self.path}") from None

    def publish_reports(self, writers: list[Callable[[Path], Path]]) -> list[Path]:
        """Run each ``writer(directory) -> file`` into a scratch dir, then rename every file into place.

        An error (a full disk) leaves no partial report and no scratch dir behind.
        """
        self._used = True
        scratch = self.path / f"{_SCRATCH_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        try:
            scratch.mkdir()
            written = [writer(scratch) for writer in writers]
            final = []
            for path in written:
                target = self.path / path.name
                os.replace(path, target)
                final.append(target)
            return final
        except OSError as exc:
            raise _os_error(exc, f"writing the reports to --out {self.path}") from None
        finally:
            _remove(scratch)


# -- the marker -----------------------------------------------------------------------------------


def write_marker(path: Path, owner: Owner) -> None:
    """Write the marker atomically; the first write into the dir, so it doubles as the writability check."""
    body = {"schema": MARKER_SCHEMA, "tool": TOOL, "claimed": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "owner": owner.to_json()}
    tmp = path / f"{MARKER}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path / MARKER)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _marker_json(path: Path) -> dict[str, Any] | None:
    try:
        with (path / MARKER).open("rb") as fh:
            data = json.loads(fh.read(64 * 1024))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def read_marker(path: Path) -> Owner | None:
    """The owner recorded by the run that last claimed ``path`` (the lock holder while it is locked)."""
    data = _marker_json(path)
    return Owner.from_json(data.get("owner")) if data is not None else None


def foreign_content(path: Path) -> str:
    """Why ``path`` is not a codex-matrix out dir ("" when it is one, or empty)."""
    names = sorted(os.listdir(path))
    if not names:
        return ""
    if MARKER in names:
        if _marker_json(path) is not None:
            return ""
        return f"its {MARKER} is damaged; delete it only if this is an out dir"
    ours = [n for n in names if n in _LEGACY_NAMES or n.startswith(_CRASH_PREFIX)]
    if len(ours) == len(names) and _legacy_results(path / "results.json"):
        return ""
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"it holds {shown}"


def _legacy_results(path: Path) -> bool:
    """A results.json as codex-matrix writes it (before the marker existed)."""
    try:
        with path.open("rb") as fh:
            data = json.loads(fh.read(256 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("schema") == 1 and isinstance(data.get("cells"), list)


# -- helpers --------------------------------------------------------------------------------------


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _os_error(exc: OSError, doing: str) -> UserError:
    user = from_os_error(exc, doing)
    if user is not None:
        return user
    return UserError(f"{doing}: {exc.filename or ''} {exc.strerror or exc}: check the directory, or pass "
                     "another --out", exit_code=3)


def prune_empty(root: Path) -> None:
    """Remove empty directories below ``root`` (and ``root`` itself when it ends up empty)."""
    if not root.is_dir():
        return
    for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda t: -len(Path(t[0]).parts)):
        with contextlib.suppress(OSError):
            Path(dirpath).rmdir()  # fails (and is skipped) unless empty


def snapshot(staging: Path, raw: Path, *, move: bool) -> None:
    """Put a container's staging dir at ``raw`` (moved when the container is surely gone, else copied).

    A copy leaves nothing an orphaned container still holds open inside ``raw``; the staging dir is
    then deleted unless the caller keeps it (a container kept for inspection still uses it).
    """
    raw.parent.mkdir(parents=True, exist_ok=True)
    if raw.exists():
        _remove(raw)
    if move:
        os.rename(staging, raw)
    else:
        shutil.copytree(staging, raw, symlinks=True)
