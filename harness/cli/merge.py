"""``codex-matrix merge DIR… --out DIR``: shards' (or tox envs') out dirs → one set of reports.

Exit status as ``run``'s: 0 every cell met its expectation, 1 a cell missed it, 130 an input was
interrupted, 2 an input cannot be read or two inputs disagree about a cell.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from harness.console import print_summary
from harness.merge import merge_results
from harness.redact import Redactor
from harness.report import exit_status, write_reports


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("merge", help="merge the out dirs of shards or tox envs into one report")
    p.add_argument("inputs", nargs="+", type=Path, metavar="DIR",
                   help="out dirs of `run` (each holds results.json), e.g. shard-1 shard-2 or out/codex*")
    p.add_argument("--out", type=Path, default=Path("out"), help="where the merged reports go (default: out/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    results = merge_results(args.inputs, args.out)
    paths = [str(p) for p in write_reports(results, args.out, Redactor())]
    print_summary(Console(), results, paths)
    return exit_status(results)
