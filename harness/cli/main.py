"""Entry point of ``codex-matrix``: builds the parser from the subcommand modules and maps errors.

Each subcommand module exposes ``register(subparsers)`` which adds its parser and sets ``func`` to a
callable taking the parsed namespace and returning an exit code. Keeping dispatch here means a
subcommand never has to know how errors are printed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from harness.errors import UserError

SUBCOMMAND_MODULES = (
    "harness.cli.run",
    "harness.cli.list_cells",
    "harness.cli.fetch",
    "harness.cli.build",
    "harness.cli.prune",
    "harness.cli.lane",
    "harness.cli.resolve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-matrix",
        description="Docker-isolated integration test matrix for the codex-native lane.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UserError as exc:
        print(f"codex-matrix: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("codex-matrix: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
