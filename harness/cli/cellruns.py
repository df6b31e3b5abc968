"""What ``repro``, ``diff`` and ``bisect`` share: images for a few builds, a few cells run once or N times.

Progress goes to stderr (per-container lines, download and image steps), so stdout stays for the
command's answer (Markdown or ``--json``). The raw output lives in a temporary directory removed at
the end unless the caller passes its own, and SIGTERM counts as Ctrl-C: containers go, the command
exits 130.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.cli.invocation import Invocation
from harness.console import ConsoleReporter
from harness.interrupts import command_signals
from harness.matrix import Timeouts, versions_of
from harness.results import RunResults
from harness.run.oneshot import run_cells
from harness.suite.protocol import CellSpec


def interruptible(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """SIGTERM (a cancelled CI job) ends the whole command as Ctrl-C does: containers removed, exit 130.

    ``codex-matrix`` already runs every command under :func:`harness.interrupts.command_signals`; this
    keeps the same guarantee when a command function is called on its own (tests, embedding)."""

    @functools.wraps(command)
    def wrapper(args: argparse.Namespace) -> int:
        with command_signals():
            return command(args)

    return wrapper


@dataclass(frozen=True)
class CellImages:
    """What a few cells run in: an image per build (with Node where a foreign lane's cell needs it) and
    what the lanes mount (the SDK's dist/, a script), exactly as ``run`` prepares them."""

    tags: dict[str, str]
    lane_mounts: tuple[tuple[str, str], ...] = ()


def prepare_images(client: Any, cells: Sequence[CellSpec], console: Console,
                   cache_dir: Path | None = None) -> CellImages:
    """Images for the cells' builds and lanes, fetching builds, SDKs and Node as needed (UserError when one
    cannot). A lane cell once ran in the plain codex image: the SDK adapter could not start (no node) and
    the cell failed for the harness's reason, not the lane's."""
    from harness.images import ensure_images
    from harness.progress import RichProgress
    from harness.run import lanes

    with RichProgress(console) as progress:
        images = ensure_images(client, versions_of(list(cells)), progress=progress, cache_dir=cache_dir)
        tags, mounts = lanes.prepare(client, cells, images, cache_dir=cache_dir, progress=progress)
    return CellImages(tags, mounts)


@contextlib.contextmanager
def raw_dir(keep: Path | None = None) -> Iterator[Path]:
    """Where the containers write: ``keep`` when given, else a temporary directory removed afterwards."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="codex-matrix-") as tmp:
        yield Path(tmp)


def execute(cells: Sequence[CellSpec], images: CellImages, *, invocation: Invocation, out_dir: Path,
            timeouts: Timeouts | None = None, k_expr: str | None = None, jobs: int = 1,
            workers: int = 4, runs: int = 1) -> list[RunResults]:
    """Run ``cells`` (``runs`` times) in containers, nothing kept; KeyboardInterrupt once they are gone.

    The invocation's matrix is the one the cells come from: its ``codex:`` settings and timeouts (unless
    ``timeouts`` replaces them) apply as in ``codex-matrix run``."""
    options = invocation.options(out_dir, timeouts=timeouts, jobs=jobs, keep="never", workers=workers,
                                 k_expr=k_expr, lane_mounts=images.lane_mounts)
    with ConsoleReporter(invocation.console) as reporter, invocation.signals():
        return run_cells(cells, images.tags, options, reporter, runs=runs)


def run_versions(cells: Sequence[CellSpec], *, invocation: Invocation, out_dir: Path,
                 cache_dir: Path | None = None, **kwargs: Any) -> list[RunResults]:
    """Images for the cells' builds, then :func:`execute`."""
    images = prepare_images(invocation.client, cells, invocation.console, cache_dir)
    return execute(cells, images, invocation=invocation, out_dir=out_dir, **kwargs)
