"""``codex-matrix prune``: remove this project's stale images, stopped containers and containers kept for
inspection (``--all``: every project image). Only objects carrying the project's labels are ever touched.
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli.common import daemon
from harness.images import prune


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "prune",
        help="remove stale project images, stopped containers and containers kept for inspection",
        description="Remove project-labelled Docker images whose recipe is outdated (or all with --all), "
        "stopped project-labelled containers, and run containers kept for inspection (--keep) whose "
        "contract suite has ended. A container whose suite is still running is never touched.",
    )
    parser.add_argument("--all", dest="all_", action="store_true",
                        help="remove every project image, not only stale ones")
    parser.add_argument("--keep", action="append", default=[], metavar="TAG",
                        help="image tag or id to keep (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    removed = prune(daemon(), keep=args.keep, all_=args.all_)
    for line in removed:
        print(f"removed {line}")
    if not removed:
        print("nothing to remove")
    return 0
