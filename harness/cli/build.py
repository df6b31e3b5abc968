"""``codex-matrix build``: make sure the base image and one image per codex-cli version exist.

Prints ``version -> tag`` and whether each image was built now or reused, so a CI log shows at a
glance that a warm runner rebuilt nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness import labels
from harness.cli.common import daemon
from harness.images import ensure_images
from harness.progress import RichProgress


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build",
        help="fetch codex-cli builds and build the Docker images of the matrix",
        description="Build (or reuse) the base image and the per-version codex images.",
    )
    parser.add_argument("--versions", default=None, metavar="A,B,…",
                        help="comma-separated codex-cli versions (default: versions of matrix.yaml)")
    parser.add_argument("--matrix", type=Path, default=None, help="matrix.yaml to read versions from")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="build cache directory (default: $CODEX_MATRIX_CACHE or the user cache dir)")
    parser.set_defaults(func=run)


def selected_versions(args: argparse.Namespace) -> list[str]:
    if args.versions:
        return [v.strip().removeprefix("codex") for v in args.versions.split(",") if v.strip()]
    from harness.matrix import load_matrix  # only needed without --versions

    return list(load_matrix(args.matrix).versions)


def run(args: argparse.Namespace) -> int:
    versions = selected_versions(args)
    client = daemon()
    before = _project_tags(client)
    with RichProgress() as progress:
        tags = ensure_images(client, versions, progress=progress, cache_dir=args.cache_dir)
    for version, tag in tags.items():
        print(f"{version}\t{tag}\t{'reused' if tag in before else 'built'}", flush=True)
    return 0


def _project_tags(client: Any) -> set[str]:
    images = client.images.list(filters={"label": f"{labels.MANAGED}=true"})
    return {tag for image in images for tag in image.tags}
