"""``codex-matrix versions``: the stable codex-cli releases on npm, and which have a Linux x64 build.

Answers offline from the list cached at the last successful fetch, and says so.
"""

from __future__ import annotations

import argparse
import json
import sys

from harness.errors import UserError
from harness.npmversion import NpmVersion, version_key
from harness.releases import load_index


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("versions", help="list the stable codex-cli releases on npm (cached for offline use)",
                       description="List the stable releases of @openai/codex on the npm registry, oldest "
                                   "first, with their publication date and the npm version of their Linux x64 build.")
    p.add_argument("--latest", type=int, metavar="N", default=None, help="only the N newest releases")
    p.add_argument("--since", metavar="V", default=None, help="only releases from V on (V included)")
    p.add_argument("--json", action="store_true", help="JSON on stdout instead of a table")
    p.add_argument("--registry", default=None,
                   help="npm registry URL (default: NPM_CONFIG_REGISTRY, .npmrc, registry.npmjs.org)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.latest is not None and args.latest < 1:
        raise UserError("--latest takes a whole number of at least 1")
    since = None
    if args.since is not None:
        try:
            since = NpmVersion.parse(args.since.removeprefix("codex")).key
        except ValueError as exc:
            raise UserError(f"--since: {exc}") from None
    index = load_index(registry=args.registry)
    releases = [r for r in index.releases if since is None or version_key(r.version) >= since]
    if args.latest is not None:
        releases = releases[-args.latest:]
    if args.json:
        print(json.dumps({"registry": index.registry, "fetched_at": index.fetched_at,
                          "cached": index.cached_because is not None, "cached_because": index.cached_because,
                          "releases": [r.to_json() for r in releases]}, indent=2))
        return 0
    print(index.describe(), file=sys.stderr)
    print(f"{'version':<10} {'published':<11} linux-x64 build")
    for r in releases:
        day = (r.published or "")[:10] or "?"
        print(f"{r.version:<10} {day:<11} {r.linux_x64 or '— (none on npm: cannot be run)'}")
    return 0
