"""``codex-matrix lane run|project|read``: drive the codex-native lane by hand.

* ``run`` executes one real build once and prints the sign-off summary (what the Phase 0 evidence
  recorded per run). With ``--fake-api SCENARIO`` the fake Responses API is started on loopback with a
  fresh random key that only this run knows, and codex gets a temporary CODEX_HOME pointing at it.
  That home is deleted afterwards for ephemeral runs; a persistent run's home is kept (the rollout in
  it *is* the persisted history) and its path is printed — as is any home kept with ``--keep-home``.
  A refused run wrote nothing, so its home is always removed. The home lives under the user cache dir,
  not ``/tmp``: codex refuses to set up its helper binaries under the system temp dir and would add a
  warning to every sign-off summary.
  Without ``--fake-api`` the run uses the user's own CODEX_HOME and provider; the key, if any, is
  named by ``--api-key-env`` and never taken as an argument (it would land in ``ps`` and shell history).
* ``project`` maps and projects a recorded stream (``-`` = stdin) and prints the rows as JSONL.
* ``read`` applies the strict reader to a transcript; exit status 1 when any row was dropped.

``run`` exits 0 when the thread completed and 1 otherwise (failed, interrupted or refused).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import platformdirs
from rich.console import Console
from rich.table import Table

from harness.cli.common import key_from_env
from harness.errors import UserError
from harness.lane.authority import derive_authority
from harness.lane.credentials import default_codex_home
from harness.lane.hydration import hydrate
from harness.lane.mapper import map_stream, warning
from harness.lane.projection import ProjectionContext, project, to_jsonl
from harness.lane.reader import read_transcript
from harness.lane.session import LANE_VERSION, LaneRequest, LaneResult, random_id, run_lane, utc_now
from harness.suite.policies import DEFAULT_POLICY, POLICIES, is_ephemeral

_STATUS_STYLE = {"completed": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lane", help="run, project or read one codex-native lane transcript by hand",
        description="Drive the codex-native lane by hand: one run, a projection of a recorded stream, "
                    "or a strict read of a transcript.")
    sub = parser.add_subparsers(dest="lane_command", metavar="SUBCOMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run a codex build once through the lane and print the sign-off summary",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--prompt", required=True, help="the prompt, e.g. 'Reply only with OK'")
    policy = run.add_mutually_exclusive_group()
    for entry in POLICIES.values():  # one flag per registered policy
        policy.add_argument(f"--{entry.name}", dest="policy", action="store_const", const=entry.name,
                            help=f"completion policy {entry.name}"
                                 f"{' (the default)' if entry.name == DEFAULT_POLICY else ''}: {entry.summary}"
                                 f"{' (needs codex 0.99+)' if entry.ephemeral else ''}")
    run.set_defaults(policy=DEFAULT_POLICY)
    run.add_argument("--cwd", type=Path, default=None, help="working directory for codex (default: current)")
    run.add_argument("--codex", metavar="PATH", default=None,
                     help="codex binary (default: $CODEX_CLI_PATH, then codex on PATH)")
    run.add_argument("--fake-api", metavar="SCENARIO", default=None,
                     help="serve the fake Responses API on loopback with SCENARIO (ok, tool, unauthorized, …)")
    run.add_argument("--codex-home", metavar="DIR", type=Path, default=None,
                     help="CODEX_HOME without --fake-api (default: $CODEX_HOME, then ~/.codex)")
    run.add_argument("--api-key-env", metavar="NAME", default=None,
                     help="variable holding an explicit API key (without --fake-api; the key is never an argument)")
    run.add_argument("--keep-home", action="store_true",
                     help="with --fake-api: keep the temporary CODEX_HOME of an ephemeral run too")
    run.add_argument("--timeout", type=float, default=120.0, help="hard timeout in seconds (default 120)")
    run.add_argument("--rust-log", metavar="FILTER", default=None,
                     help="RUST_LOG for the child, e.g. 'warn' to see the WARN lines codex hides by default")
    run.add_argument("--out", type=Path, default=None, help="write the projected transcript (JSONL) here")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.set_defaults(func=run_command)

    proj = sub.add_parser("project", help="project a recorded codex --json stream into transcript rows")
    proj.add_argument("events", metavar="EVENTS.jsonl", help="recorded stdout of codex exec --json; '-' = stdin")
    proj.add_argument("--stderr", type=Path, default=None, help="recorded stderr of the same run")
    proj.add_argument("--policy", choices=tuple(POLICIES), default=DEFAULT_POLICY,
                      help=f"completion policy of the recorded run (default {DEFAULT_POLICY})")
    proj.add_argument("--exit-code", type=int, default=0, help="exit code of the recorded run (default 0)")
    proj.add_argument("--timed-out", action="store_true", help="the recorded run was killed by a timeout")
    proj.add_argument("--codex-home", metavar="DIR", type=Path, default=None,
                      help="persistent runs: CODEX_HOME to read the rollout back from (no read-back without it)")
    proj.add_argument("--prompt", default="", help="prompt to put in the user row (default empty)")
    proj.add_argument("--out", type=Path, default=None, help="write the rows here instead of stdout")
    proj.set_defaults(func=project_command)

    read = sub.add_parser("read", help="read a transcript with the strict reader; exit 1 if rows were dropped")
    read.add_argument("transcript", metavar="TRANSCRIPT.jsonl", help="transcript file; '-' = stdin")
    read.add_argument("--json", action="store_true", help="print the result as one JSON object")
    read.set_defaults(func=read_command)


# -- run -------------------------------------------------------------------------------------------


def _render_summary(summary: dict[str, Any], console: Console) -> None:
    status = summary["thread_status"]
    console.print(f"[bold]codex-native lane run[/]: [{_STATUS_STYLE.get(status, 'white')}]{status}[/]"
                  f"  ({summary['status_reason']})", highlight=False)
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    usage = summary["usage"]
    exe = summary["executable"]
    rows = [
        ("thread id", summary["thread_id"] or "-"),
        ("completion policy", summary["completion_policy"]),
        ("history completeness", summary["history_completeness"]),
        ("usage authority", summary["usage_authority"]),
        ("usage", "-" if usage is None else
         f"input {usage['input_tokens']}, cached {usage['cached_input_tokens']}, output {usage['output_tokens']}"
         + (f", reasoning {usage['reasoning_output_tokens']}" if usage["reasoning_output_tokens"] is not None else "")
         + (f", cache write {usage['cache_write_input_tokens']}"
            if usage["cache_write_input_tokens"] is not None else "")),
        ("executable", "-" if exe is None else f"{exe['path']} ({exe['source']})"),
        ("executable version", "-" if exe is None else (exe["version_line"] or "unknown")),
        ("credential source", summary["credential_source"]),
        ("capability profile", summary["capability_profile"]),
        ("protocol", f"{summary['protocol']} (probe: {summary['probed_protocol'] or '-'})"),
        ("exit code", "not run" if summary["refused"] else
         "timed out" if summary["timed_out"] else str(summary["exit_code"])),
        ("final text", "-" if summary["final_text"] is None else repr(summary["final_text"])),
        ("transcript rows", str(summary["transcript_rows"])),
    ]
    if summary["refused"]:
        rows.insert(0, ("refused", summary["refused"]))
    if summary["rollout_path"]:
        rows.append(("rollout", summary["rollout_path"]))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table, highlight=False)
    for source, texts in summary["warnings_by_source"].items():
        console.print(f"[bold]warnings ({source})[/]: {len(texts)}")
        for text in texts:
            console.print(f"  - {text}", markup=False, highlight=False, soft_wrap=True)
    if summary["unsupported_raw_events"]:
        console.print(f"[bold]unsupported raw events[/]: {', '.join(summary['unsupported_raw_events'])}",
                      highlight=False)


def _run_with_fake_api(args: argparse.Namespace, cwd: Path) -> tuple[LaneResult, Path | None]:
    """Run against the fake API; returns the result and the kept CODEX_HOME (None if removed)."""
    from harness.fakeapi import FakeResponsesAPI, write_codex_config  # only this path needs the server

    key = f"sk-lane-{secrets.token_hex(16)}"
    runs = Path(platformdirs.user_cache_dir("codex-native-matrix")) / "lane-runs"
    runs.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="codex-lane-", dir=runs))
    codex_home = root / "home" / ".codex"
    api = FakeResponsesAPI(valid_keys=[key])
    result: LaneResult | None = None
    try:
        try:
            api.start()
            write_codex_config(codex_home, api.provider_url(args.fake_api, "lane"))
        except ValueError as exc:
            raise UserError(f"--fake-api {args.fake_api}: {exc}") from None
        result = run_lane(_request(args, cwd, codex_home, key, os.environ))
    finally:
        api.stop()
        keep = result is not None and result.refused is None and (args.keep_home or not is_ephemeral(args.policy))
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    assert result is not None  # run_lane returned: the only way past the finally without an exception
    return result, (root if keep else None)


def _request(args: argparse.Namespace, cwd: Path, codex_home: Path, key: str | None,
             env: Any) -> LaneRequest:
    extra = {"RUST_LOG": args.rust_log} if args.rust_log else {}
    return LaneRequest(prompt=args.prompt, cwd=cwd, policy=args.policy, codex_home=codex_home,
                       codex_path=args.codex, api_key=key, env=env, timeout_s=args.timeout, extra_env=extra)


def run_command(args: argparse.Namespace) -> int:
    cwd = (args.cwd or Path.cwd()).absolute()
    if not cwd.is_dir():
        raise UserError(f"--cwd {cwd} is not a directory: create it or pass an existing one")
    if args.codex is not None and not (os.path.isfile(args.codex) and os.access(args.codex, os.X_OK)):
        raise UserError(f"--codex {args.codex} is not an executable file: pass the path of a codex binary "
                        "(`codex-matrix fetch VERSION` prints one)")
    kept: Path | None = None
    if args.fake_api:
        if args.codex_home or args.api_key_env:
            raise UserError("--fake-api makes its own CODEX_HOME and key: drop --codex-home/--api-key-env")
        result, kept = _run_with_fake_api(args, cwd)
    else:
        codex_home = args.codex_home or default_codex_home(os.environ)
        if codex_home is None:
            raise UserError("no CODEX_HOME: set CODEX_HOME or HOME, or pass --codex-home")
        result = run_lane(_request(args, cwd, codex_home, key_from_env(args.api_key_env), os.environ))
    if args.out:
        args.out.write_bytes(to_jsonl(result.transcript))
    summary = result.summary()
    summary["temp_dir_kept"] = str(kept) if kept else None
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _render_summary(summary, Console(highlight=False))
    if kept:
        print(f"kept the run's temporary HOME (CODEX_HOME is {kept / 'home' / '.codex'}); remove it when done: "
              f"rm -rf {kept}", file=sys.stderr)
    return 0 if result.authority.thread_status == "completed" else 1


# -- project / read --------------------------------------------------------------------------------


def _read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {name}: {exc.strerror}: check the path") from None


def project_command(args: argparse.Namespace) -> int:
    stdout = _read_input(args.events)
    stderr = _read_input(str(args.stderr)) if args.stderr else b""
    mapped = map_stream(stdout, stderr)
    authority = derive_authority(mapped.events, policy=args.policy, exit_code=args.exit_code,
                                 timed_out=args.timed_out, protocol=mapped.protocol)
    events = list(mapped.events)
    if args.codex_home and not is_ephemeral(args.policy) and authority.thread_status == "completed":
        hydration = hydrate(args.codex_home, authority.thread_id, final_text=authority.final_text,
                            usage=authority.usage)
        authority = replace(authority, history_completeness=hydration.completeness)
        events += [warning(text, source="history", origin="hydration") for text in hydration.warnings]
    ctx = ProjectionContext(cwd=Path.cwd(), session_id=authority.thread_id or "recorded-stream",
                            prompt=args.prompt, policy=args.policy, executable=None, model=None,
                            version=LANE_VERSION, git_branch=None, exit_code=args.exit_code,
                            protocol=mapped.protocol)
    data = to_jsonl(project(events, authority, ctx, clock=utc_now, new_id=random_id))
    if args.out:
        args.out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def read_command(args: argparse.Namespace) -> int:
    result = read_transcript(_read_input(args.transcript))
    if args.json:
        print(json.dumps({"kept": len(result.kept), "dropped": [{"line": n, "reason": r} for n, r in result.dropped],
                          "bom_lines": result.bom_lines, "partial_trailing_line": result.partial_trailing_line}))
    else:
        print(f"kept {len(result.kept)}, dropped {len(result.dropped)}")
        for number, reason in result.dropped:
            print(f"  line {number}: {reason}")
        if result.bom_lines:
            print(f"  BOM-prefixed lines: {', '.join(map(str, result.bom_lines))}")
        if result.partial_trailing_line:
            print("  last line has no trailing newline (partial)")
    return 1 if result.dropped else 0
