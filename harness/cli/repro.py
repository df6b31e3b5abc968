"""``codex-matrix repro CELL_ID``: run one cell again, print its outcome, write one bundle to replay anywhere.

``repro CELL_ID [--scenario S]`` runs exactly that cell (narrowed to S) in its build's image and writes
``CELL_ID.repro.json`` (``-o`` to choose); ``repro --bundle FILE`` replays a bundle on this machine
(fetching the same build and checking its integrity) and says whether the outcome matches; ``--shell``
opens a shell in the cell's container instead, the fake API running and the lane's codex command
printed. Exit status: 0 the cell met its expectation (with --bundle: the outcome matches), 1 otherwise.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from rich.console import Console

from harness.binaries import CachedBuild, fetch
from harness.cli.cellruns import execute, interruptible, prepare_images, raw_dir
from harness.cli.invocation import Invocation
from harness.errors import UserError
from harness.incoming.bundle import read_bundle
from harness.matrix import Selection, Timeouts, select
from harness.progress import RichProgress
from harness.repro import (
    BuildIdentity,
    Bundle,
    collect_scenarios,
    compare,
    describe,
    harness_info,
    host_info,
    outcome_json,
)
from harness.results import CellResult
from harness.suite.protocol import CELLS_DIR, PYTEST_LOG, CellSpec


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("repro", help="run one cell again and write a bundle that replays it anywhere",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cell", nargs="?", metavar="CELL_ID", help="a cell id as results.json/report.md/junit.xml print it")
    p.add_argument("--scenario", metavar="S[,S…]", default=None, help="only these scenarios of the cell")
    p.add_argument("-k", dest="k_expr", metavar="EXPR", default=None,
                   help="only contract tests matching EXPR inside the container (pytest -k)")
    p.add_argument("--shell", action="store_true",
                   help="open a shell in the cell's container (fake API running, codex command printed)")
    p.add_argument("--bundle", type=Path, default=None, metavar="FILE", help="replay this bundle and compare")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                   help="where the bundle goes (default: ./CELL_ID.repro.json; with --bundle: none)")
    p.add_argument("--matrix", type=Path, default=None, help="matrix.yaml the cell id comes from")
    p.add_argument("--cache-dir", type=Path, default=None, help="codex build cache (default: user cache dir)")
    p.set_defaults(func=run)


@interruptible
def run(args: argparse.Namespace) -> int:
    if (args.cell is None) == (args.bundle is None):
        raise UserError("name a CELL_ID to reproduce, or --bundle FILE to replay (not both)")
    if args.bundle is not None:
        if args.shell or args.scenario or args.k_expr:
            raise UserError("--bundle replays the bundle's own cell: drop --shell/--scenario/-k")
        return _replay(args)
    invocation = Invocation(args)
    [cell] = select(invocation.config, Selection(cells=args.cell, scenarios=args.scenario))
    if args.shell and cell.foreign:
        raise UserError(f"--shell prints the python lane's codex command; {cell.lane} runs its own adapter: "
                        "drop --shell (the bundle holds the adapter's result, its stderr and the fake API's journal)")
    if args.shell:
        return _shell(invocation, cell)
    invocation.client  # noqa: B018 - no Docker is one line before any download, as it always was
    build = _fetch(cell.version, args.cache_dir, invocation.console)
    output = args.output or Path(f"{cell.id}.repro.json")
    result, bundle = _run(cell, build, invocation, invocation.config.timeouts, args.k_expr, args.cache_dir)
    bundle.argv = ["codex-matrix", *sys.argv[1:]] if sys.argv[0].endswith(("codex-matrix", "__main__.py")) else []
    path = bundle.write(output)
    print(f"{cell.id} on {build.version_line or build.version} in {bundle.image['tag']}: {describe(result)}")
    print(f"wrote {path} (replay it anywhere: codex-matrix repro --bundle {shlex.quote(str(path))})")
    return 0 if result.met else 1


def _fetch(version: str, cache_dir: Path | None, console: Console) -> CachedBuild:
    with RichProgress(console) as progress:
        return fetch(version, cache_dir=cache_dir, progress=progress)


def _run(cell: CellSpec, build: CachedBuild, invocation: Invocation, timeouts: Timeouts, k_expr: str | None,
         cache_dir: Path | None) -> tuple[CellResult, Bundle]:
    client = invocation.client
    images = prepare_images(client, [cell], invocation.console, cache_dir)
    tag = images.tags[cell.version]
    with raw_dir() as out:
        [results] = execute([cell], images, invocation=invocation, out_dir=out, timeouts=timeouts, k_expr=k_expr)
        [result] = results.cells
        job_dir = out / "raw" / cell.version
        try:
            suite_output = (job_dir / PYTEST_LOG).read_text(encoding="utf-8", errors="replace")[-20000:]
        except OSError:
            suite_output = ""
        bundle = Bundle(
            cell=cell, build=BuildIdentity.of(build), image={"tag": tag, "id": client.images.get(tag).id},
            timeouts=timeouts.model_dump(), outcome=outcome_json(result), k_expr=k_expr,
            scenarios=collect_scenarios(job_dir / CELLS_DIR / cell.id, cell.scenarios), suite_output=suite_output,
            host=host_info(client.version().get("Version")),
        )
    return result, bundle


def _replay(args: argparse.Namespace) -> int:
    bundle = read_bundle(args.bundle)  # checked whole, the build bound to the cell, before anything runs
    # the bundle keeps its own timeouts; codex's provider settings come from the matrix, as in every command
    invocation = Invocation(args)
    invocation.config  # noqa: B018 - a broken matrix.yaml is one line now, before any download
    console = invocation.console
    here = harness_info()
    if here != bundle.harness:
        console.print(f"note: the bundle was written by codex-matrix {bundle.harness.get('version')} (code "
                      f"{bundle.harness.get('digest')}); this is {here['version']} (code {here['digest']}): "
                      "the checks may differ")
    invocation.client  # noqa: B018 - no Docker is one line before any download, as it always was
    build = _fetch(bundle.cell.version, args.cache_dir, console)
    bundle.build.check(build)
    console.print(f"{bundle.build.npm_version or build.version}: integrity and binary sha256 match the bundle")
    timeouts = Timeouts(**bundle.timeouts)
    result, again = _run(bundle.cell, build, invocation, timeouts, bundle.k_expr, args.cache_dir)
    if again.image["tag"] != bundle.image.get("tag"):
        console.print(f"note: image {again.image['tag']} (the bundle ran {bundle.image.get('tag')}): the image "
                      "recipe or base differs")
    if args.output is not None:
        again.write(args.output)
    expected = bundle.result
    diffs = compare(expected, result)
    print(f"{bundle.cell.id} on {build.version_line or build.version}: {describe(result)}")
    if diffs:
        print(f"the outcome differs from the bundle ({expected.status}, written {bundle.created}):")
        for line in diffs:
            print(f"  {line}")
        return 1
    print(f"the outcome matches the bundle ({expected.status}, {len(expected.tests)} tests, written {bundle.created})")
    return 0


def _shell(invocation: Invocation, cell: CellSpec) -> int:
    from harness.run.shell import open_shell

    console, client = invocation.console, invocation.client
    images = prepare_images(client, [cell], console, invocation.args.cache_dir)
    scenario = cell.scenarios[0]
    if len(cell.scenarios) > 1:
        console.print(f"shell for scenario {scenario} (pass --scenario to pick another of {', '.join(cell.scenarios)})")
    return open_shell(client, images.tags[cell.version], cell, scenario)
