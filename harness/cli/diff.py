"""``codex-matrix diff A B``: what changed between two builds, as Markdown (or ``--json``) on stdout.

A and B are versions (run now with a small selection: one credential setup, both policies, the ``ok``
and ``tool`` scenarios; or taken from ``--reuse RESULTS`` when that run fingerprinted them) or
results.json files (``FILE`` when it holds one build, ``FILE:VERSION`` otherwise).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from harness.binaries import local
from harness.cli.cellruns import interruptible, raw_dir, run_versions
from harness.cli.invocation import Invocation
from harness.diff import Side, diff_sides, render_markdown, side_of
from harness.errors import UserError
from harness.incoming.results import read_results
from harness.matrix import Selection, select
from harness.matrix.load import clip
from harness.npmversion import parse_version
from harness.redact import Redactor
from harness.releases import expand_items, load_index, needs_index
from harness.results import RunResults, write_results
from harness.suite.policies import POLICIES

DEFAULT_CREDENTIALS = "codex-api-key"
DEFAULT_POLICIES = ",".join(POLICIES)
DEFAULT_SCENARIOS = "ok,tool"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("diff", help="what changed between two builds: fingerprint and contract test outcomes",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", metavar="A", help="older side: VERSION (also latest, latest-N), RESULTS.json or "
                                          "RESULTS.json:VERSION")
    p.add_argument("b", metavar="B", help="newer side, the same forms")
    p.add_argument("--json", action="store_true", help="JSON on stdout instead of Markdown")
    p.add_argument("--reuse", type=Path, metavar="RESULTS",
                   help="take a VERSION side from this results.json when it fingerprinted that build")
    p.add_argument("--credentials", default=DEFAULT_CREDENTIALS,
                   help=f"credential setups of the run (default: {DEFAULT_CREDENTIALS})")
    p.add_argument("--policies", default=DEFAULT_POLICIES, help=f"policies of the run (default: {DEFAULT_POLICIES})")
    p.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                   help=f"scenarios of the run (default: {DEFAULT_SCENARIOS})")
    p.add_argument("--lanes", metavar="LANE,…", default=None,
                   help="lanes of the run (default: matrix.yaml's; e.g. python,codex-sdk@0.163.0): each lane's "
                        "cells are diffed apart")
    p.add_argument("--matrix", type=Path, default=None, help="matrix.yaml for expectations and timeouts")
    p.add_argument("--out", type=Path, default=None,
                   help="keep the run's results.json here (reusable with --reuse); default: keep nothing")
    p.add_argument("--cache-dir", type=Path, default=None, help="codex build cache (default: user cache dir)")
    p.add_argument("-j", "--jobs", type=int, default=2, help="containers at once (default: 2)")
    p.set_defaults(func=run)


@dataclass
class Operand:
    """One side as named on the command line: a version to run, or a build in a results file."""

    text: str
    version: str
    results: RunResults | None = None
    source: str | None = None  # the results file it comes from (None: run now)


def _operand(text: str, reuse: RunResults | None) -> Operand:
    path, sep, version = text.rpartition(":")
    if sep and Path(path).is_file():
        return Operand(text, _version(version), read_results(Path(path)), str(Path(path).resolve()))
    if text.endswith(".json"):
        results = read_results(Path(text))
        builds = list(results.builds)
        if len(builds) != 1:
            raise UserError(f"{text} holds {len(builds)} fingerprinted builds ({', '.join(builds) or 'none'}): "
                            f"name one as {text}:VERSION")
        return Operand(text, builds[0], results, str(Path(text).resolve()))
    version = _version(text)
    if reuse is not None and version in reuse.builds:
        return Operand(text, version, reuse, "--reuse")
    return Operand(text, version)


def _version(text: str) -> str:
    if needs_index(text) or local.is_spec(text):
        [text] = expand_items([text], load_index, flag="diff")
    try:
        return parse_version(text.removeprefix("codex"))
    except ValueError as exc:
        raise UserError(f"diff: {clip(exc, 160)}") from None


@interruptible
def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UserError("--jobs takes a whole number of at least 1")
    reuse = read_results(args.reuse) if args.reuse is not None else None
    a, b = _operand(args.a, reuse), _operand(args.b, reuse)
    if a.version == b.version and a.source == b.source:
        raise UserError(f"A and B are the same build ({a.version}): name two builds, or the same build in two "
                        "results files")
    pending = list(dict.fromkeys(op.version for op in (a, b) if op.results is None))
    if pending:
        fresh = _run(args, pending)
        for op in (a, b):
            if op.results is None:
                op.results = fresh
    sides = [_side(op) for op in (a, b)]
    diff = diff_sides(*sides)
    redactor = Redactor()  # the results files were masked when written; a hand-edited one may not be
    print(redactor.dumps(diff, indent=2) if args.json else render_markdown(diff, redactor),
          end="" if not args.json else "\n")
    return 0


def _side(op: Operand) -> Side:
    assert op.results is not None
    label = op.version if op.text == op.version or op.text.removeprefix("codex") == op.version else op.text
    return side_of(op.results, op.version, label)


def _run(args: argparse.Namespace, versions: list[str]) -> RunResults:
    invocation = Invocation(args)
    cells = select(invocation.config, Selection(versions=",".join(versions), credentials=args.credentials,
                                                policies=args.policies, scenarios=args.scenarios, lanes=args.lanes))
    console = invocation.console
    console.print(f"diff: running {len(cells)} cells of {', '.join(versions)} "
                  f"({args.credentials}; {args.policies}; {args.scenarios})")
    with raw_dir(args.out / "raw" if args.out else None) as out:
        [results] = run_versions(cells, invocation=invocation, out_dir=out, cache_dir=args.cache_dir, jobs=args.jobs)
    if args.out is not None:
        path = write_results(results, args.out, Redactor())
        console.print(f"  wrote {path} (reuse it: --reuse {path})")
    for version in versions:
        if version not in results.builds:
            raise UserError(f"the run of {version} left no fingerprint (every cell errored): see the lines above")
    return results
