"""``codex-matrix run``: the main job — fetch builds, build images, run the contract suite, report."""

from __future__ import annotations

import argparse
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from rich.console import Console

from harness.console import ConsoleReporter, print_summary
from harness.errors import UserError
from harness.matrix import Selection, load_matrix, select, versions_of
from harness.redact import Redactor
from harness.report import write_junit, write_markdown
from harness.results import write_results
from harness.run import RunOptions, plan_jobs, run_jobs
from harness.run.plan import default_jobs


def add_selection_args(parser: argparse.ArgumentParser) -> None:
    """The cell-selection flags shared by `run` and `list`."""
    parser.add_argument("--matrix", type=Path, default=None,
                        help="matrix file (default: ./matrix.yaml when the current directory has one, "
                             "else the default matrix this installation ships)")
    parser.add_argument("--versions", help="comma-separated builds, e.g. 0.117.0,0.169.0 (any npm version)")
    parser.add_argument("--credentials", help="comma-separated credential setups")
    parser.add_argument("--policies", help="comma-separated completion policies (ephemeral, persistent)")
    parser.add_argument("--scenarios", help="comma-separated fake-API scenarios")
    parser.add_argument("--cells", metavar="ID,…",
                        help="exact cell ids, as results.json, report.md and junit.xml print them")


def selection_from(args: argparse.Namespace) -> Selection:
    return Selection(versions=args.versions, credentials=args.credentials, policies=args.policies,
                     scenarios=args.scenarios, cells=args.cells)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the matrix (default: every cell of matrix.yaml)")
    add_selection_args(p)
    p.add_argument("--out", type=Path, default=Path("out"), help="report directory (default: out/)")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help=f"containers at once (default: one per core, here {default_jobs()})")
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here so `codex-matrix list` and `--help` work without Docker libraries touching the daemon
    from harness.docker_env import docker_client
    from harness.images import ensure_images
    from harness.progress import RichProgress

    if (args.jobs is not None and args.jobs < 1) or (args.workers is not None and args.workers < 1):
        raise UserError("--jobs and --workers take a whole number of at least 1")
    config = load_matrix(args.matrix)
    cells = select(config, selection_from(args))
    console = Console(stderr=True)
    client = docker_client()
    console.print(f"{len(cells)} cells over {len(versions_of(cells))} builds; preparing images")
    images_started = time.monotonic()
    images = ensure_images(client, versions_of(cells), progress=RichProgress(console), cache_dir=args.cache_dir)
    images_s = time.monotonic() - images_started
    out: Path = args.out
    if (out / "raw").exists():
        shutil.rmtree(out / "raw")
    options = RunOptions(out_dir=out, timeouts=config.timeouts, codex=config.codex, jobs=args.jobs or default_jobs(),
                         keep=args.keep, isolation=args.isolation, workers=args.workers, k_expr=args.k_expr)
    jobs = plan_jobs(cells, images, options)
    with ConsoleReporter(console) as reporter, _sigterm_as_interrupt():
        results = run_jobs(jobs, options, reporter)
    results.timings["images_s"] = round(images_s, 3)
    redactor = Redactor()
    paths = [str(write_results(results, out, redactor)), str(write_junit(results, out, redactor)),
             str(write_markdown(results, out, redactor))]
    print_summary(Console(), results, paths)
    if results.interrupted:
        return 130
    return 0 if results.ok else 1


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A cancelled CI job sends SIGTERM: treat it as Ctrl-C so containers go and reports are written."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
