"""``codex-matrix init``: write a starter ``matrix.yaml`` (the default matrix, with its comments)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.assets import packaged_matrix_path
from harness.errors import UserError


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "init", help="write a starter matrix.yaml to edit",
        description="Write a starter matrix.yaml (the default matrix, every key commented) to edit. "
                    "`codex-matrix run` then reads ./matrix.yaml by default.")
    parser.add_argument("path", nargs="?", type=Path, default=Path("matrix.yaml"),
                        help="where to write it (default: ./matrix.yaml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.path
    if path.exists() and not args.force:
        raise UserError(f"{path} already exists: edit it, or pass --force to overwrite it")
    try:
        path.write_text(packaged_matrix_path().read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}: pick a writable path") from None
    print(f"wrote {path}: edit versions, axes, expectations and xfail rules, then `codex-matrix run`")
    return 0
