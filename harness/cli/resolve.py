"""``codex-matrix resolve``: which backend a request would get here, and why, without running anything.

The key is never taken on the command line (it would land in shell history and ``ps``):
``--api-key-env NAME`` names a variable that holds it. Exit status is 0 whenever a decision was made,
including a fallback — a fallback is an answer, not an error; scripts read ``--json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.cli.common import key_from_env
from harness.lane.backends import BACKENDS, BackendDecision, resolve_backend
from harness.suite.policies import DEFAULT_POLICY, POLICIES

_STATE_STYLE = {
    "ready": "green",
    "locked": "yellow",
    "runtime-missing": "red",
    "authentication-required": "red",
    "degraded": "yellow",
}


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "resolve",
        help="show which backend (auto|adapter|api|codex-native) a request resolves to, and why",
        description="Resolve a backend request against this environment and explain the decision.",
    )
    parser.add_argument("--backend", choices=BACKENDS, default="codex-native",
                        help="requested backend (default: codex-native)")
    parser.add_argument("--policy", choices=tuple(POLICIES), default=DEFAULT_POLICY,
                        help=f"completion policy the run would use (default: {DEFAULT_POLICY})")
    parser.add_argument("--codex", metavar="PATH", default=None,
                        help="codex binary to use (default: $CODEX_CLI_PATH, then codex on PATH)")
    parser.add_argument("--codex-home", metavar="DIR", type=Path, default=None,
                        help="CODEX_HOME to look for auth.json in (default: $CODEX_HOME, then ~/.codex)")
    parser.add_argument("--api-key-env", metavar="NAME", default=None,
                        help="environment variable holding an explicit API key (the key itself is never an argument)")
    parser.add_argument("--json", action="store_true", help="print the decision as one JSON object")
    parser.set_defaults(func=run)


def _render(decision: BackendDecision, console: Console) -> None:
    native = decision.native
    verdict = "[yellow]fallback[/]" if decision.state == "fallback" else "[green]selected[/]"
    console.print(f"[bold]{decision.requested}[/] → [bold]{decision.resolved}[/] ({verdict}, policy {decision.policy})")
    console.print(f"  {decision.reason}", markup=False, highlight=False, soft_wrap=True)
    table = Table(show_header=False, box=None, padding=(0, 1))
    style = _STATE_STYLE[native.state]
    table.add_row("codex-native", f"[{style}]{native.state}[/]")
    exe = native.executable
    table.add_row("executable", "-" if exe is None else f"{exe.path} ({exe.source})")
    table.add_row("version", "-" if exe is None else (exe.version_line or "unknown"))
    table.add_row("protocol", "-" if native.capabilities is None else native.capabilities.protocol)
    cred = native.credential
    table.add_row("credential", cred.source if cred.origin is None else f"{cred.source} ({cred.origin})")
    data = native.to_dict()["capabilities"]
    table.add_row("capabilities", f"{data['profile']}: no {', '.join(data['unsupported'])}")
    console.print(table)


def run(args: argparse.Namespace) -> int:
    decision = resolve_backend(
        args.backend,
        policy=args.policy,
        codex_path=args.codex,
        api_key=key_from_env(args.api_key_env),
        codex_home=args.codex_home,
    )
    if args.json:
        print(json.dumps(decision.to_dict(), indent=2))
    else:
        _render(decision, Console())
    return 0
