"""A tiny progress-reporting protocol shared by long steps (downloads, image builds).

Library code reports *what* is happening through ``Progress``; only the CLI decides *how* it is shown.
On a terminal a live bar is worth having for a 280 MB download; in CI logs the same bar would become
hundreds of lines, so the non-TTY rendering prints one line per finished step (plus explicit notes),
and for a step that counts bytes one "still going" line every :data:`HEARTBEAT_S` seconds, so a slow
mirror is visible in a CI log long before the download deadline. One step runs at a time: the
machinery fetches and builds sequentially.
"""

from __future__ import annotations

import time
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as _RichBar

HEARTBEAT_S = 30.0


class Progress(Protocol):
    """Receiver of progress events; one step at a time, ``start`` → ``advance``/``update``* → ``done``."""

    def start(self, task: str, total: int | None = None) -> None:
        """Begin a step; ``total`` in bytes when known (downloads), else ``None`` (indeterminate)."""

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units (bytes) of the current step."""

    def update(self, detail: str) -> None:
        """Replace the transient detail of the current step (e.g. the last build log line)."""

    def note(self, message: str) -> None:
        """Print a line the user should see even in CI logs (e.g. a fallback that was taken)."""

    def done(self, message: str = "") -> None:
        """Finish the current step; ``message`` summarises the outcome (size, time, tag)."""


class NullProgress:
    """Discards everything: the default for library callers that want silence (tests, embedding)."""

    def start(self, task: str, total: int | None = None) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def update(self, detail: str) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def done(self, message: str = "") -> None:
        return None


class RichProgress:
    """Live bar on a TTY, one plain line per finished step otherwise.

    Call ``close()`` (or use it as a context manager) so an exception in the middle of a step does not
    leave a live display running over the error message.
    """

    def __init__(self, console: Console | None = None, *, file: TextIO | None = None) -> None:
        self._console = console or Console(file=file, stderr=file is None, highlight=False)
        self._bar: _RichBar | None = None
        self._task_id: TaskID | None = None
        self._task = ""
        self._started = 0.0
        self._count = 0
        self._total: int | None = None
        self._beat = 0.0
        self.heartbeat_s = HEARTBEAT_S

    @property
    def is_terminal(self) -> bool:
        return self._console.is_terminal

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, task: str, total: int | None = None) -> None:
        self.close()
        self._task = task
        self._started = self._beat = time.monotonic()
        self._count, self._total = 0, total
        if not self.is_terminal:
            return
        columns = (
            [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
             TransferSpeedColumn(), TimeElapsedColumn()]
            if total
            else [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  TextColumn("[dim]{task.fields[detail]}")]
        )
        self._bar = _RichBar(*columns, console=self._console, transient=True)
        self._bar.start()
        self._task_id = self._bar.add_task(task, total=total, detail="")

    def advance(self, n: int = 1) -> None:
        self._count += n
        if self._bar is not None and self._task_id is not None:
            self._bar.advance(self._task_id, n)
        elif not self.is_terminal and time.monotonic() - self._beat >= self.heartbeat_s:
            self._beat = time.monotonic()
            of = f" of {self._total / 1e6:.1f} MB" if self._total else ""
            self._console.print(f"{self._task}: {self._count / 1e6:.1f} MB{of} after "
                                f"{self._beat - self._started:.0f} s", markup=False, highlight=False, soft_wrap=True)

    def update(self, detail: str) -> None:
        if self._bar is not None and self._task_id is not None:
            self._bar.update(self._task_id, detail=detail[:80])

    def note(self, message: str) -> None:
        self._console.print(message, markup=False, highlight=False, soft_wrap=True)

    def done(self, message: str = "") -> None:
        elapsed = time.monotonic() - self._started
        self.close()
        summary = f"{self._task}: {message}" if message else self._task
        self._console.print(f"{summary} ({elapsed:.1f} s)", markup=False, highlight=False, soft_wrap=True)
        self._task = ""

    def close(self) -> None:
        """Stop any live display; safe to call at any time and more than once."""
        if self._bar is not None:
            self._bar.stop()
        self._bar = None
        self._task_id = None
