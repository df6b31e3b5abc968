"""``codex-matrix ci``: what a CI engine needs beyond ``run --shard`` and ``merge``.

* ``ci github [--install CMD]`` prints the GitHub Actions workflow (list shards → one job per shard →
  merge), to save as ``.github/workflows/matrix.yml``;
* ``ci annotate DIR`` (its merge job runs it) prints one ``::error`` annotation per cell of DIR's
  results.json that missed its expectation, and appends report.md to ``$GITHUB_STEP_SUMMARY`` when set.
  It exits 0: the verdict is ``merge``'s exit status.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.ci.github import error_annotations, summary_text, workflow_text
from harness.errors import UserError
from harness.incoming.results import read_results
from harness.merge import results_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ci", help="CI engine helpers: print the GitHub workflow, annotate a merged run")
    engines = p.add_subparsers(dest="ci_command", metavar="ACTION")
    engines.required = True
    gh = engines.add_parser("github", help="print the GitHub Actions workflow (shards, build cache, merge)")
    gh.add_argument("--install", metavar="CMD", default=None,
                    help="how each job installs codex-matrix (default: `python -m pip install .`, for this "
                         "project's own repository)")
    gh.set_defaults(func=github)
    an = engines.add_parser("annotate", help="GitHub annotations and job summary for an out dir")
    an.add_argument("dir", type=Path, metavar="DIR", help="a run's or a merge's out dir")
    an.set_defaults(func=annotate)


def github(args: argparse.Namespace) -> int:
    print(workflow_text(args.install), end="")
    return 0


def annotate(args: argparse.Namespace) -> int:
    path = results_path(args.dir)
    results = read_results(path)
    summary = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    report = path.parent / "report.md"
    if summary and report.is_file():
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(summary_text(report.read_text(encoding="utf-8")))
        except OSError as exc:
            raise UserError(f"cannot append to GITHUB_STEP_SUMMARY={summary}: {exc.strerror or exc}: "
                            "run this inside a GitHub Actions step, or unset the variable") from None
    for line in error_annotations(results):
        print(line)
    return 0
