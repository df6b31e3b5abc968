"""``codex-matrix bisect --good V --bad V``: the first published release where the selected cells change.

Walks the stable releases between the two ends (patch releases included, from ``codex-matrix
versions``), one container per step. Both ends are checked first; a release npm has no Linux x64 build
of, that cannot be installed, or whose run errors is skipped (``git bisect skip``). Every step is
appended to ``OUT/bisect.jsonl`` at once, so the same command after Ctrl-C resumes where it stopped.

The selected cells are judged against the matrix's expectation of each release, or against
``--expect KIND`` for all of them; known regressions (``xfail``) are not applied, so a known
regression counts as a miss.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import __version__
from harness.assets import default_matrix_path
from harness.bisect import StepOutcome, Terms, judge_runs, parse_terms, step_bound
from harness.bisect.bisector import Bisector
from harness.bisect.log import LOG_NAME, BisectLog
from harness.bisect.report import render
from harness.cli.cellruns import execute, interruptible, prepare_images, raw_dir
from harness.cli.invocation import Invocation
from harness.errors import UserError
from harness.matrix import MatrixConfig, Selection, select
from harness.matrix.load import clip
from harness.matrix.select import split_values
from harness.npmversion import parse_version
from harness.releases import ReleaseIndex, expand_items, load_index, needs_index
from harness.results import now
from harness.suite.expectations import EXPECTATIONS
from harness.suite.protocol import CellSpec


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bisect", help="find the first release where the selected cells change (regression or fix)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--good", "--old", dest="good", required=True, metavar="V",
                   help="older end: a release that shows the old term (default term: every cell meets its expectation)")
    p.add_argument("--bad", "--new", dest="bad", required=True, metavar="V",
                   help="newer end: a release that shows the new term (default term: a cell misses its expectation)")
    p.add_argument("--matrix", type=Path, default=None, help="matrix.yaml for the cells and their expectations")
    p.add_argument("--credentials", help="comma-separated credential setups")
    p.add_argument("--policies", help="comma-separated completion policies")
    p.add_argument("--scenarios", help="comma-separated fake-API scenarios")
    p.add_argument("--cells", metavar="ID,…", help="cell ids (their build part is ignored: bisect picks the builds; "
                   "a lane part, +codex-sdk-0.163.0-provider, bisects that lane's cell)")
    p.add_argument("--lanes", metavar="LANE,…", default=None,
                   help="lanes whose cells are bisected (default: the lanes --cells names, else matrix.yaml's)")
    p.add_argument("-k", dest="k_expr", metavar="EXPR", default=None,
                   help="only contract tests matching EXPR inside the containers (pytest -k)")
    p.add_argument("--runs", type=int, default=1, metavar="N",
                   help="run each step N times; a step counts as missed if any run missed (default: 1)")
    p.add_argument("--terms", default=None, metavar="OLD,NEW",
                   help="words for the two states, e.g. broken,fixed to find a fix (default: good,bad)")
    p.add_argument("--expect", default=None, choices=tuple(EXPECTATIONS),
                   help="judge every selected cell against this expectation instead of the matrix's")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("--out", type=Path, default=Path("out"), help=f"where {LOG_NAME} goes (default: out/)")
    p.add_argument("--cache-dir", type=Path, default=None, help="codex build cache (default: user cache dir)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="containers at once with --runs (default: 1)")
    p.set_defaults(func=run)


def _version(flag: str, text: str, index: ReleaseIndex) -> str:
    if needs_index(text):
        [text] = expand_items([text], lambda: index, flag=flag)
    try:
        version = parse_version(text.removeprefix("codex"))
    except ValueError as exc:
        raise UserError(f"{flag}: {clip(exc, 160)}") from None
    release = index.require(version, flag)
    if not release.installable:
        raise UserError(f"{flag}: npm has no linux-x64 build of {version}: pick the release before or after it")
    return version


class CellMaker:
    """The selected cells for any release, as the matrix (or ``--expect``) judges them there."""

    def __init__(self, config: MatrixConfig, args: argparse.Namespace, sample: str) -> None:
        self.config = config
        self.args = args
        self.picked: set[tuple[str, str, str]] | None = None  # (credential, policy, lane) the ids name
        self.lanes: str | None = getattr(args, "lanes", None)
        ids = split_values("--cells", args.cells)
        if ids is not None:
            self.picked = set()
            for cell_id in ids:
                [cell] = select(config, Selection(cells=cell_id))  # validates the id against the matrix
                self.picked.add((cell.credential, cell.policy, cell.lane))
            if self.lanes is None:  # a lane id once lost its lane here, and bisect ran the python lane's cell
                self.lanes = ",".join(dict.fromkeys(lane for _, _, lane in sorted(self.picked)))
        self(sample)  # validates the other selectors now, before anything runs

    def __call__(self, version: str) -> list[CellSpec]:
        a = self.args
        cells = select(self.config, Selection(versions=version, credentials=a.credentials, policies=a.policies,
                                              scenarios=a.scenarios, lanes=self.lanes))
        if self.picked is not None:
            cells = [c for c in cells if (c.credential, c.policy, c.lane) in self.picked]
        if not cells:
            raise UserError("the selection matches no cell: widen --cells/--credentials/--policies/--scenarios")
        expect = a.expect
        return [replace(c, expect=expect or c.expect,
                        expect_reason=f"bisect --expect {expect}" if expect else c.expect_reason, known={})
                for c in cells]


@interruptible
def run(args: argparse.Namespace) -> int:
    if args.runs < 1 or args.jobs < 1:
        raise UserError("--runs and --jobs take a whole number of at least 1")
    terms = parse_terms(args.terms)
    index = load_index()
    good, bad = _version("--good", args.good, index), _version("--bad", args.bad, index)
    if good == bad:
        raise UserError(f"--good and --bad are both {good}: name two different releases")
    releases = index.between(good, bad, "--good/--bad")
    invocation = Invocation(args)
    cells_for = CellMaker(invocation.config, args, bad)
    versions = [r.version for r in releases]
    params = _params(args, terms, good, bad)
    console = invocation.console
    log = BisectLog(args.out / LOG_NAME, params)
    earlier = log.resumable()  # a damaged log is a one-line error before anything runs
    invocation.client  # noqa: B018 - orphans reaped and the daemon reached before the log says "started"
    if earlier is None:
        log.start({"started": now().isoformat(), "harness_version": __version__, "releases": versions})
        earlier = []
    console.print(f"bisect: {len(versions)} releases {good}..{bad}, finding the first '{terms.new}' "
                  f"(a {terms.finds}); at most {step_bound(len(versions))} steps; log {log.path}"
                  + (f"; resuming {len(earlier)} steps" if earlier else ""))

    def step(version: str) -> StepOutcome:
        return _step(version, index, cells_for, invocation, terms)

    bisector = Bisector(versions, terms, step, log, earlier,
                        progress=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False))
    try:
        summary = bisector.run(params)
    except KeyboardInterrupt:
        console.print(f"bisect interrupted; {len(bisector.steps)} steps are in {log.path}: "
                      "the same command resumes from there")
        raise
    log.append({"kind": "result", **{k: v for k, v in summary.items() if k not in ("steps", "params")}})
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(render(summary))
    return 0


def _step(version: str, index: ReleaseIndex, cells_for: CellMaker, invocation: Invocation,
          terms: Terms) -> StepOutcome:
    release = index.find(version)
    if release is None or not release.installable:
        return StepOutcome(version, "skip", reason="npm has no linux-x64 build of it")
    cells = cells_for(version)
    started = time.monotonic()
    try:
        images = prepare_images(invocation.client, cells, invocation.console, invocation.args.cache_dir)
    except UserError as exc:
        return StepOutcome(version, "skip", reason=f"cannot be installed: {exc}",
                           duration_s=time.monotonic() - started)
    with raw_dir() as out:
        args = invocation.args
        runs = execute(cells, images, invocation=invocation, out_dir=out, k_expr=args.k_expr, jobs=args.jobs,
                       runs=args.runs)
    return judge_runs(version, runs, terms, duration_s=time.monotonic() - started)


def _params(args: argparse.Namespace, terms: Terms, good: str, bad: str) -> dict[str, Any]:
    """What makes two bisects the same one (and so resumable from each other's log)."""
    try:
        digest: str | None = hashlib.sha256(Path(args.matrix or default_matrix_path()).read_bytes()).hexdigest()[:16]
    except (OSError, UserError):
        digest = None
    return {"good": good, "bad": bad, "credentials": args.credentials, "policies": args.policies,
            "scenarios": args.scenarios, "cells": args.cells, "k": args.k_expr, "expect": args.expect,
            "runs": args.runs, "terms": [terms.old, terms.new], "matrix": digest,
            # only when given, so a log written before --lanes existed still resumes
            **({"lanes": args.lanes} if getattr(args, "lanes", None) else {})}

