"""``codex-matrix merge DIR… --out DIR``: shards' (or tox envs') out dirs → one set of reports.

Exit status as ``run``'s: 0 every cell met its expectation, 1 a cell missed it, 130 an input was
interrupted, 2 an input cannot be read or two inputs disagree about a cell. With ``--expect`` and the
run's selection flags, a cell no input holds is an error cell (a CI job that died before writing its
out dir leaves no files to merge, and must not leave a green report).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from harness.cli.run import add_selection_args, selection_from
from harness.console import print_summary
from harness.errors import from_os_error
from harness.matrix import apply_shard, load_matrix, select
from harness.merge import check_out_dir, copy_artifacts, expect_cells, merged_results, read_inputs
from harness.outdir import OutDir
from harness.owner import Owner
from harness.redact import Redactor
from harness.report import exit_status, report_writers


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("merge", help="merge the out dirs of shards or tox envs into one report")
    p.add_argument("inputs", nargs="+", type=Path, metavar="DIR",
                   help="out dirs of `run` (each holds results.json), e.g. shard-1 shard-2 or out/codex*")
    p.add_argument("--out", type=Path, default=Path("out"), help="where the merged reports go (default: out/)")
    p.add_argument("--expect", action="store_true",
                   help="every cell of the selection (the flags below; none: the whole matrix) must be in an "
                        "input: a missing one is reported as an error, so a shard that never wrote its out dir "
                        "cannot leave a green report")
    add_selection_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    expected = None
    if args.expect:  # read the selection first: a mistake in it must not leave a half-written out dir
        config = load_matrix(args.matrix)
        expected = apply_shard(select(config, selection_from(args)), args.shard, config.timeouts)
    inputs = read_inputs(args.inputs)
    in_place = check_out_dir(args.out, inputs)
    with OutDir.claim(args.out, Owner.current("merge")) as out:
        if not in_place:  # an input is never inside out (checked above): its files are not touched
            out.clear_previous()
        try:
            results = merged_results(inputs, copy_artifacts(inputs, out.path))
        except OSError as exc:
            raise from_os_error(exc, f"copying artifacts into --out {out.path}") or exc from None
        if expected is not None:
            expect_cells(results, expected)
        paths = [str(p) for p in out.publish_reports(report_writers(results, Redactor()))]
    print_summary(Console(), results, paths)
    return exit_status(results)
