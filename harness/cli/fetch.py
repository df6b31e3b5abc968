"""``codex-matrix fetch VERSION…``: put codex-cli builds into the local cache and say where they are.

Useful on its own to reproduce a version-specific regression by hand: the printed path is a binary
that runs directly on a Linux x64 host.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.binaries import fetch
from harness.progress import RichProgress


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fetch",
        help="download codex-cli builds from npm into the cache (integrity-checked)",
        description="Download codex-cli builds from npm into the build cache and print their paths.",
    )
    parser.add_argument("versions", nargs="+", metavar="VERSION", help="codex-cli version, e.g. 0.117.0")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="build cache directory (default: $CODEX_MATRIX_CACHE or the user cache dir)")
    parser.add_argument("--registry", default=None,
                        help="npm registry URL (default: NPM_CONFIG_REGISTRY, .npmrc, registry.npmjs.org)")
    parser.add_argument("--verify", action="store_true",
                        help="re-hash cached trees and re-download any that no longer match")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with RichProgress() as progress:
        for version in args.versions:
            build = fetch(version, cache_dir=args.cache_dir, registry=args.registry, progress=progress,
                          verify=args.verify)
            print(f"{build.version}\t{build.binary}\t{build.version_line or '(not runnable on this host)'}",
                  flush=True)
    return 0
