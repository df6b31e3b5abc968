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


def write_reports(results: RunResults, out_dir: Path, redactor: Redactor | None = None) -> list[Path]:
    """results.json, junit.xml, report.md and report.html, each through the redactor."""
    redactor = redactor or Redactor()
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_results(results, out_dir, redactor), write_junit(results, out_dir, redactor),
            write_markdown(results, out_dir, redactor), write_html(results, out_dir, redactor)]


def report_writers(results: RunResults, redactor: Redactor) -> list[Callable[[Path], Path]]:
    """One ``writer(directory) -> file`` per report, for :meth:`harness.outdir.OutDir.publish_reports`
    (which writes them into a scratch dir and renames each into place)."""
    return [lambda d: write_results(results, d, redactor), lambda d: write_junit(results, d, redactor),
            lambda d: write_markdown(results, d, redactor), lambda d: write_html(results, d, redactor)]


def exit_status(results: RunResults) -> int:
    """`run` and `merge` alike: 130 when interrupted, 0 when every cell met its expectation, else 1."""
    if results.interrupted:
        return 130
    return 0 if results.ok else 1
