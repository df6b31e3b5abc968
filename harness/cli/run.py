"""``codex-matrix run``: the main job — fetch builds, build images, run the contract suite, report."""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from pathlib import Path

from rich.console import Console

from harness.cli.invocation import Invocation
from harness.console import ConsoleReporter, print_summary
from harness.errors import UserError
from harness.interrupts import StopRequests
from harness.matrix import Selection, apply_shard, select, versions_of
from harness.matrix.schema import AXIS_VALUES
from harness.outdir import OutDir
from harness.releases import expand_versions_arg
from harness.rerun import rerun_selection
from harness.results import RunResults
from harness.run import plan_jobs, run_jobs
from harness.run.plan import default_jobs
from harness.suite.protocol import CellSpec


def add_selection_args(parser: argparse.ArgumentParser) -> None:
    """The cell-selection flags shared by `run` and `list`."""
    parser.add_argument("--matrix", type=Path, default=None,
                        help="matrix file (default: ./matrix.yaml when the current directory has one, "
                             "else the default matrix this installation ships)")
    parser.add_argument("--versions", help="comma-separated builds, e.g. 0.117.0,0.169.0 (any npm version), "
                        "latest, latest-N (N releases back) or OLD..NEW (the stable releases between, inclusive)")
    for flag, axis, what in (("--credentials", "credentials", "credential setups"),
                             ("--policies", "policies", "completion policies"),
                             ("--sandboxes", "sandboxes", "codex sandbox modes"),
                             ("--scenarios", "scenarios", "fake-API scenarios")):
        parser.add_argument(flag, help=f"comma-separated {what}, any of {', '.join(AXIS_VALUES[axis])} "
                                       "(default: matrix.yaml's)")
    parser.add_argument("--lanes", metavar="LANE,…",
                        help="who consumes each build: python (ours, the default), codex-sdk@0.163.0 (OpenAI's "
                             "TypeScript SDK, both modes), codex-sdk@0.163.0:provider (one mode) or script:PATH "
                             "(your own adapter); default: matrix.yaml's lanes")
    parser.add_argument("--cells", metavar="ID,…",
                        help="exact cell ids, as results.json, report.md and junit.xml print them")
    parser.add_argument("--shard", metavar="K/N", help="only shard K of N of the selection (one CI job each; "
                        "a build's cells stay together, builds balanced by expected time)")


def selection_from(args: argparse.Namespace) -> Selection:
    return Selection(versions=expand_versions_arg(args.versions, cache_dir=getattr(args, "cache_dir", None)),
                     credentials=args.credentials, policies=args.policies,
                     scenarios=args.scenarios, cells=args.cells, sandboxes=args.sandboxes,
                     lanes=getattr(args, "lanes", None))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the matrix (default: every cell of matrix.yaml)")
    add_selection_args(p)
    p.add_argument("--out", type=Path, default=Path("out"), help="report directory (default: out/)")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help=f"containers at once (default: one more than the cores, here {default_jobs()})")
    p.add_argument("--workers", type=int, default=None,
                   help="lane runs that compute at once inside a container (default: sized from the cores "
                        "and memory the containers share; runs that only wait for a timeout never count)")
    p.add_argument("--keep", choices=("failing", "always", "never"), default="failing",
                   help="keep containers for inspection (default: failing)")
    p.add_argument("--isolation", choices=("version", "cell"), default="version",
                   help="one container per build (default) or per cell")
    p.add_argument("--cache-dir", type=Path, default=None, help="codex build cache (default: user cache dir)")
    p.add_argument("-k", dest="k_expr", metavar="EXPR", default=None,
                   help="only contract tests matching EXPR inside the containers (pytest -k)")
    p.add_argument("--rerun-failed", nargs="?", const="", default=None, metavar="RESULTS",
                   help="rerun exactly the cells that missed their expectation in RESULTS "
                        "(default: the --out directory's results.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.jobs is not None and args.jobs < 1) or (args.workers is not None and args.workers < 1):
        raise UserError("--jobs and --workers take a whole number of at least 1")
    invocation = Invocation(args, console=Console(stderr=True))
    config = invocation.config
    selection = selection_from(args)
    if args.rerun_failed is not None:
        narrowed = rerun_selection(selection, args.rerun_failed, args.out)
        if narrowed is None:  # every cell met its expectation: nothing to do, nothing written
            return 0
        selection = narrowed
    cells = apply_shard(select(config, selection), args.shard, config.timeouts)
    results, stopped = run_cells(invocation, cells)
    if results.interrupted or stopped:
        return 130
    return 0 if results.ok else 1


def run_cells(invocation: Invocation, cells: list[CellSpec], *, details: bool = True) -> tuple[RunResults, bool]:
    """Images, containers, reports for ``cells`` into ``--out``: what ``run`` and ``compat`` share.

    ``details`` False: no per-cell failures and no grid on the console (``compat`` prints its own view).
    Returns the results and whether the user asked to stop (Ctrl-C/SIGTERM)."""
    # imported here so `codex-matrix list` and `--help` work without Docker libraries touching the daemon
    from harness.images import ensure_images
    from harness.progress import RichProgress
    from harness.run import lanes

    args, console = invocation.args, invocation.console
    # the out dir first: a foreign, busy, read-only or full one fails now, before any image work
    with OutDir.claim(args.out) as out:
        client = invocation.client
        console.print(f"{len(cells)} cells over {len(versions_of(cells))} builds; preparing images")
        images_started = time.monotonic()
        images = ensure_images(client, versions_of(cells), progress=RichProgress(console), cache_dir=args.cache_dir)
        images, mounts = lanes.prepare(client, cells, images, cache_dir=args.cache_dir,
                                       progress=RichProgress(console))
        images_s = time.monotonic() - images_started
        options = invocation.options(out.path, jobs=args.jobs or default_jobs(), keep=args.keep,
                                     isolation=args.isolation, workers=args.workers, k_expr=args.k_expr,
                                     lane_mounts=mounts)
        jobs = plan_jobs(cells, images, options)
        # from here on Ctrl-C/SIGTERM only ask to stop: containers go, the reports are always written
        with StopRequests(note=_say_stopping) as stop:
            out.clear_previous()
            with ConsoleReporter(console, details=details) as reporter:
                results = run_jobs(jobs, options, reporter, stop=stop.event)
            results.timings["images_s"] = round(images_s, 3)
            _publish(out, results, invocation, grid=details)
        stopped = stop.count > 0
    return results, stopped


def _publish(out: OutDir, results: RunResults, invocation: Invocation, *, grid: bool = True) -> list[Path]:
    """Write the reports into place (whole or not at all), then show the grid and where they are."""
    try:
        paths = out.publish_reports(invocation.report_writers(results))
    except UserError:
        print_summary(Console(), results, [])  # the verdict is not lost with the files
        raise
    if grid:
        print_summary(Console(), results, [str(p) for p in paths])
    else:
        for path in paths:
            invocation.console.print(f"  wrote {path}")
    return paths


def _say_stopping(count: int) -> None:
    """Runs inside the signal handler: a raw write, no rich (its lock may be held by the interrupted frame)."""
    line = ("codex-matrix: stopping: removing containers, then writing the reports\n" if count == 1 else
            "codex-matrix: still stopping: the reports are being written and will not be lost\n")
    with contextlib.suppress(OSError):
        os.write(2, line.encode())
