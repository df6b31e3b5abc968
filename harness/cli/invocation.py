"""One way to start a command: what ``run``, ``repro``, ``diff``, ``bisect`` and ``atlas`` need from outside
themselves, built once from the command line and matrix.yaml (tox hands every command one State).

* the matrix the command line names (``--matrix``, else ./matrix.yaml or the packaged one), loaded once:
  its ``codex:`` settings and timeouts reach every container the command starts, through
* :meth:`Invocation.options`, the run options of every container any of these commands starts
  (:func:`harness.run.plan.options_for` with this matrix);
* the Docker client, asked for once and only when needed, after the containers of runs that are gone
  were removed (:func:`harness.cli.common.daemon`);
* the signal policy (:data:`Invocation.signals`: the first SIGINT/SIGTERM stops the command, later ones
  cannot cut its cleanup short) and the report writers (:data:`harness.report.files.WRITERS`);
* one stderr console for progress, so stdout keeps the command's answer.

Everything is lazy: ``diff --reuse`` of two results files never talks to Docker, ``repro --bundle``
reads the matrix only for its ``codex:`` settings.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.interrupts import command_signals
from harness.matrix import MatrixConfig, load_matrix
from harness.redact import Redactor
from harness.results import RunResults
from harness.run.plan import RunOptions, options_for


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)  # CI logs: one line per message


@dataclass
class Invocation:
    """One command's outside world; see the module docstring."""

    args: argparse.Namespace
    console: Console = field(default_factory=stderr_console)
    #: The signal policy every command runs under (:func:`harness.interrupts.command_signals`).
    signals: Callable[[], AbstractContextManager[None]] = command_signals

    @cached_property
    def config(self) -> MatrixConfig:
        return load_matrix(getattr(self.args, "matrix", None))

    @cached_property
    def client(self) -> Any:
        """The Docker client, orphans of gone runs reaped first (once per command)."""
        from harness.cli.common import daemon

        return daemon()

    def options(self, out_dir: Path, **overrides: Any) -> RunOptions:
        """Run options for containers this command starts: the matrix's ``codex:`` settings and timeouts,
        with ``overrides`` (jobs, keep, workers, timeouts, ``-k``) on top."""
        return options_for(self.config, out_dir, **overrides)

    @staticmethod
    def report_writers(results: RunResults) -> list[Callable[[Path], Path]]:
        """Every report of an out dir, each through the redactor (:data:`harness.report.files.WRITERS`)."""
        from harness.report import report_writers

        return report_writers(results, Redactor())
