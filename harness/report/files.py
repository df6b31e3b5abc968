"""The files of an out dir, for ``merge`` (and any later writer): the set ``run`` writes —
results.json, junit.xml, report.md, report.html — with ``run``'s exit status rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.redact import Redactor
from harness.report.html import write_html
from harness.report.junit import write_junit
from harness.report.markdown import write_markdown
from harness.results import RunResults, write_results

#: Every report an out dir holds, as ``writer(results, directory, redactor) -> file``: the one list that
#: ``run``, ``merge`` and any later writer take them from.
WRITERS: tuple[Callable[[RunResults, Path, Redactor], Path], ...] = (
    write_results, write_junit, write_markdown, write_html)


def write_reports(results: RunResults, out_dir: Path, redactor: Redactor | None = None) -> list[Path]:
    """results.json, junit.xml, report.md and report.html, each through the redactor."""
    redactor = redactor or Redactor()
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write(results, out_dir, redactor) for write in WRITERS]


def report_writers(results: RunResults, redactor: Redactor) -> list[Callable[[Path], Path]]:
    """One ``writer(directory) -> file`` per report, for :meth:`harness.outdir.OutDir.publish_reports`
    (which writes them into a scratch dir and renames each into place)."""
    return [_bound(write, results, redactor) for write in WRITERS]


def _bound(write: Callable[[RunResults, Path, Redactor], Path], results: RunResults,
           redactor: Redactor) -> Callable[[Path], Path]:
    return lambda directory: write(results, directory, redactor)


def exit_status(results: RunResults) -> int:
    """`run` and `merge` alike: 130 when interrupted, 0 when every cell met its expectation, else 1."""
    if results.interrupted:
        return 130
    return 0 if results.ok else 1
