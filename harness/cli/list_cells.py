"""``codex-matrix list``: the cells a selection expands to, for humans, tox and CI job generators."""

from __future__ import annotations

import argparse
import json

from harness.cli.run import add_selection_args, selection_from
from harness.matrix import load_matrix, select, versions_of
from harness.toxgen import tox_envs


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help="list the cells of the matrix")
    add_selection_args(p)
    p.add_argument("--format", choices=("ids", "json", "tox", "github"), default="ids",
                   help="ids (one per line), json (cell specs), tox (env names), github (job matrix JSON)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cells = select(load_matrix(args.matrix), selection_from(args))
    if args.format == "ids":
        for cell in cells:
            print(cell.id)
    elif args.format == "json":
        print(json.dumps([c.to_json() for c in cells], indent=2))
    elif args.format == "tox":
        for env in tox_envs(versions_of(cells)):
            print(env)
    else:
        print(json.dumps({"include": [{"version": v} for v in versions_of(cells)]}))
    return 0
