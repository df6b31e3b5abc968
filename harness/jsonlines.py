"""Append-only JSON Lines logs (``bisect.jsonl``, ``atlas.jsonl``): one record per line, each line whole.

Both logs make long commands resumable, so a kill must never cost more than the record in flight:

* **Appending** is one ``write`` of a whole line to a file opened ``O_APPEND``, then ``fsync``; a line
  torn by a crash (power loss, ``kill -9``: no newline at the end of the file) is cut off first, so
  the next record starts on a line of its own instead of being glued to the torn one and lost.
* **Reading** ignores only that torn tail. Any other line that is not UTF-8 JSON was not written by
  codex-matrix: it is a one-line error naming the file and the line, never skipped in silence.
"""

from __future__ import annotations

import os
from pathlib import Path


def repair_tail(path: Path) -> None:
    """Cut a torn last line (no newline) so the next record starts on a line of its own."""
    try:
        with path.open("rb+") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            fh.seek(0)
            data = fh.read()
            fh.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        return


def append_line(path: Path, line: str) -> None:
    """Append ``line`` (one JSON document, no newline) as a whole line, after repairing a torn tail."""
    if "\n" in line:
        raise ValueError("a JSON Lines record must be one line")
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_tail(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
