"""``codex-matrix list``: the cells a selection expands to, for humans, tox and CI job generators."""

from __future__ import annotations

import argparse
import json
from typing import Any

from harness.cli.run import add_selection_args, selection_from
from harness.errors import UserError
from harness.matrix import Timeouts, apply_shard, load_matrix, select, versions_of
from harness.matrix.shard import assign, build_costs
from harness.suite.protocol import CellSpec
from harness.toxgen import tox_envs


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help="list the cells of the matrix")
    add_selection_args(p)
    p.add_argument("--format", choices=("ids", "json", "tox", "github"), default="ids",
                   help="ids (one per line), json (cell specs), tox (env names), github (job matrix JSON)")
    p.add_argument("--shards", type=int, metavar="N", default=None,
                   help="with --format github: one job per shard of N (each runs `run --shard K/N`), "
                        "instead of one job per build")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_matrix(args.matrix)
    cells = apply_shard(select(config, selection_from(args)), args.shard, config.timeouts)
    if args.shards is not None and (args.format != "github" or args.shards < 1):
        raise UserError("--shards N needs --format github and N of at least 1, e.g. --format github --shards 4")
    if args.format == "ids":
        for cell in cells:
            print(cell.id)
    elif args.format == "json":
        print(json.dumps([c.to_json() for c in cells], indent=2))
    elif args.format == "tox":
        for env in tox_envs(versions_of(cells)):
            print(env)
    elif args.shards is not None:
        print(json.dumps(github_shards(cells, args.shards, config.timeouts)))
    else:
        print(json.dumps({"include": [{"version": v} for v in versions_of(cells)]}))
    return 0


def github_shards(cells: list[CellSpec], count: int, timeouts: Timeouts) -> dict[str, list[dict[str, Any]]]:
    """A GitHub Actions ``strategy.matrix``: one entry per shard that holds a build.

    A shard left empty (more shards than builds) gets no job; the others keep their K/N, so each job's
    ``run --shard K/N`` computes the same split. ``versions`` names the shard's builds joined with ``+``
    (a cache key may not hold commas), ``cost_s`` its expected seconds of lane runs.
    """
    costs = build_costs(cells, timeouts)
    include = [
        {"shard": f"{i}/{count}", "index": i, "versions": "+".join(versions),
         "cost_s": round(sum(costs[v] for v in versions))}
        for i, versions in enumerate(assign(cells, count, timeouts), start=1) if versions
    ]
    return {"include": include}
