"""Mutation benchmark: how many plausible lane bugs the contract suite (and the unit suite) catches.

Each mutant is one small source patch — a bug someone could plausibly write — applied to a temporary copy
of this checkout (its tracked files as they are in the working tree), never to the checkout itself. For
each mutant the benchmark runs, from that copy:

* the contract selection: ``codex-matrix run --versions V --credentials C --policies P -j 1 --keep never``
  (real builds in containers, one container at a time); the mutant is *killed* when the run exits 1
  (a cell missed its expectation), *survives* on exit 0, and anything else is an error of the benchmark;
* the unit suite: ``pytest tests/unit -x``; killed on any failure.

It first runs the unmutated copy through both (the baseline must pass, else no score means anything),
then prints one line per mutant and the two scores, and lists every contract survivor with the reason
recorded for it below (``survives``), so a survivor is either explained or a finding.

```bash
.venv/bin/python tests/benchmarks/bench_mutation.py --list
.venv/bin/python tests/benchmarks/bench_mutation.py                       # every mutant, the default selection
.venv/bin/python tests/benchmarks/bench_mutation.py --mutants mapper-cached-key,seam-kill-leader-only \
    --versions 0.169.0 --save /tmp/mut                                      # a few, one build, keep the outputs
.venv/bin/python tests/benchmarks/bench_mutation.py --mutant-file theirs.json   # mutants written elsewhere
```

``--mutant-file`` scores a set written by someone else instead of this file's: a JSON list of objects
with this file's :class:`Mutant` fields (``id``, ``category``, ``path``, ``old``, ``new``, ``bug``, and
optionally ``survives``), checked the same way (each ``old`` occurs exactly once in its file).

The default selection is the one the issue measured with: 0.20.0, 0.117.0 and 0.169.0 × codex-api-key,
none × both policies. It takes about a minute of containers per mutant on a quiet 2-core machine, plus the
unit suite (which stops at its first failure).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VERSIONS = "0.20.0,0.117.0,0.169.0"
DEFAULT_CREDENTIALS = "codex-api-key,none"
DEFAULT_POLICIES = "ephemeral,persistent"


@dataclass(frozen=True)
class Mutant:
    """``old`` occurs exactly once in ``path`` and becomes ``new``; ``survives`` says why a contract test
    cannot kill it, when that is known (an empty string: it must be killed)."""

    id: str
    category: str
    path: str
    old: str
    new: str
    bug: str
    survives: str = ""


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # -- mapper ---------------------------------------------------------------------------------------
    M("mapper-cached-key", "mapper", "harness/lane/mapper.py",
      '_int_or_none(raw.get("cached_input_tokens"))', '_int_or_none(raw.get("cached_tokens"))',
      "cached tokens read from a renamed key (always 0), in the live stream and in hydration alike"),
    M("mapper-reasoning-key", "mapper", "harness/lane/mapper.py",
      '("reasoning_output_tokens", "reasoning")', '("reasoning_tokens", "reasoning")',
      "reasoning tokens read from the API's name, not codex's (never reported)"),
    M("mapper-turn-failed-as-completed", "mapper", "harness/lane/mapper.py",
      'return [NormalizedEvent("turn_failed", {"message": _text(message)})]',
      'return [NormalizedEvent("turn_completed", {})]',
      "turn.failed mapped as a completed turn (the exit code alone then decides)"),
    M("mapper-unknown-item-dropped", "mapper", "harness/lane/mapper.py",
      'return [_unsupported(f"{event_type}:{_type_name(item_type)}", obj)]', "return []",
      "an item of an unknown type is dropped instead of kept as unsupported_raw_event"),
    M("mapper-unknown-event-dropped", "mapper", "harness/lane/mapper.py",
      'return [_unsupported(_type_name(kind) if kind is not None else "<no type>", obj)]', "return []",
      "an event of an unknown type is dropped"),
    M("mapper-backfill-source", "mapper", "harness/lane/mapper.py",
      'source: WarningSource = "history" if _HISTORY_STDERR.search(text) else "process"',
      'source: WarningSource = "process"',
      "the ephemeral backfill stderr line attributed to the process, not to history"),
    M("mapper-thread-id-key", "mapper", "harness/lane/mapper.py",
      '{"thread_id": _text(obj.get("thread_id")) or None}', '{"thread_id": _text(obj.get("id")) or None}',
      "the thread id read from a key thread.started does not have"),
    M("mapper-tool-output-key", "mapper", "harness/lane/mapper.py",
      'return _text(item.get("aggregated_output"))', 'return _text(item.get("output"))',
      "a command's output read from a key codex never prints (always empty)"),
    # -- authority ------------------------------------------------------------------------------------
    M("authority-first-usage", "authority", "harness/lane/authority.py",
      "last_usage = usage_events[-1] if usage_events else None",
      "last_usage = usage_events[0] if usage_events else None",
      "usage taken from the first report instead of the last (running totals)"),
    M("authority-exit-ignored-after-completed", "authority", "harness/lane/authority.py",
      '        if exit_code == 0:\n            return "completed", "turn.completed and exit code 0"\n',
      '        return "completed", "turn.completed and exit code 0"\n',
      "the exit code ignored once turn.completed was printed"),
    M("authority-turn-failed-needs-exit", "authority", "harness/lane/authority.py",
      'if terminal is not None and terminal.kind == "turn_failed":',
      'if terminal is not None and terminal.kind == "turn_failed" and exit_code != 0:',
      "turn.failed believed only together with a non-zero exit code"),
    M("authority-usage-only-when-completed", "authority", "harness/lane/authority.py",
      'usage_authority="live-turn-completed" if from_turn_completed and usage is not None else "none",',
      'usage_authority="live-turn-completed" if from_turn_completed and usage is not None '
      'and status == "completed" else "none",',
      "usage authority withdrawn when the thread failed after turn.completed"),
    # -- retries --------------------------------------------------------------------------------------
    M("retries-no-supersede", "retries", "harness/lane/retries.py",
      'out[i] = NormalizedEvent(out[i].kind, {**out[i].data, "superseded": True})', "out[i] = out[i]",
      "a retried attempt's reply is not marked superseded (the answer shows twice)"),
    M("retries-notice-origin", "retries", "harness/lane/retries.py",
      'event.data.get("origin") in ("error-event", "retry")', 'event.data.get("origin") == "retry"',
      "retry notices never recognised (only already-marked ones)"),
    M("retries-notice-source-history", "retries", "harness/lane/retries.py",
      '{**event.data, "origin": "retry", "superseded_text": texts}',
      '{**event.data, "origin": "retry", "source": "history", "superseded_text": texts}',
      "a retry notice attributed to history instead of the process"),
    # -- hydration ------------------------------------------------------------------------------------
    M("hydration-skips-cached", "hydration", "harness/lane/hydration.py",
      'for name in ("input", "cached", "output", "reasoning", "cache_write"):',
      'for name in ("input", "output", "reasoning", "cache_write"):',
      "hydration does not compare the cached count"),
    M("hydration-skips-text", "hydration", "harness/lane/hydration.py",
      "if facts.final_text != final_text:", "if facts.final_text is None and final_text is not None:",
      "hydration only notices a missing final text, not a different one"),
    M("hydration-hydrated-despite-diffs", "hydration", "harness/lane/hydration.py",
      "return HydrationResult(pending, path, tuple(f\"history not hydrated: rollout {path} differs from the \"",
      "return HydrationResult(\"hydrated\", path, tuple(f\"history not hydrated: rollout {path} differs from the \"",
      "differences are warned about but the history still called hydrated"),
    M("hydration-last-token-usage", "hydration", "harness/lane/hydration.py",
      'usage_fields(info.get("total_token_usage"))', 'usage_fields(info.get("last_token_usage"))',
      "the rollout's per-request usage read instead of its running total"),
    # -- projection -----------------------------------------------------------------------------------
    M("projection-cached-not-subtracted", "projection", "harness/lane/projection.py",
      '"input_tokens": usage.input - usage.cached,', '"input_tokens": usage.input,',
      "Anthropic input_tokens includes the cached tokens (the sum double-counts them)"),
    M("projection-usage-on-first-row", "projection", "harness/lane/projection.py",
      'assistants[-1]["message"]["usage"] = anthropic_usage(authority.usage)',
      'assistants[0]["message"]["usage"] = anthropic_usage(authority.usage)',
      "the turn's usage put on the first assistant row instead of the last"),
    M("projection-tool-result-command", "projection", "harness/lane/projection.py",
      'self._answer(item_id, str(data.get("output", "")), is_error)',
      'self._answer(item_id, str(data.get("command", "")), is_error)',
      "a tool_result carries the command instead of its output"),
    M("projection-summary-cached", "projection", "harness/lane/projection.py",
      '"cached_input_tokens": usage.cached,', '"cached_input_tokens": usage.cache_write or 0,',
      "the summary's codex usage reports cache writes as cached tokens"),
    M("projection-warning-source", "projection", "harness/lane/projection.py",
      'status="running",\n                          warning_source=source, **extra)',
      'status="running",\n                          warning_source="process", **extra)',
      "every warning row projected with source process"),
    M("projection-model-dropped", "projection", "harness/lane/projection.py",
      '"model": self.ctx.model or "codex",', '"model": "codex",',
      "assistant rows name no model although the run configured one"),
    M("projection-fresh-session-id", "projection", "harness/lane/session.py",
      "session_id=authority.thread_id or new_id()", "session_id=new_id()",
      "rows carry a fresh session id instead of codex's thread id"),
    M("projection-summary-exit-zero", "projection", "harness/lane/session.py",
      "exit_code=seam.exit_code if seam else None, protocol=mapped.protocol,",
      "exit_code=0 if seam else None, protocol=mapped.protocol,",
      "the summary row's exit code is 0 whenever codex ran"),
    # -- reader ---------------------------------------------------------------------------------------
    M("reader-uuid-presence-only", "reader", "harness/lane/reader.py",
      'if not js_truthy(row.get("uuid")):', 'if "uuid" not in row:',
      "a row with an empty or null uuid accepted"),
    M("reader-no-timestamp-rule", "reader", "harness/lane/reader.py",
      "reason = _timestamp_rule(row) or _entry_rules(row)", "reason = _entry_rules(row)",
      "the strict parser's timestamp rule forgotten"),
    M("reader-message-null-accepted", "reader", "harness/lane/reader.py",
      "        if message is None:\n", '        if "message" not in row:\n',
      "a user/assistant row with message null accepted"),
    # -- seam -----------------------------------------------------------------------------------------
    M("seam-kill-leader-only", "seam", "harness/lane/proctree.py",
      "os.killpg(pgid, sig)", "os.kill(pgid, sig)",
      "the timeout kills only the leader of each group, not the group"),
    M("seam-no-descendant-groups", "seam", "harness/lane/seam.py",
      "groups = descendant_groups(proc.pid)", "groups = set()",
      "the timeout kills codex's group only (tool commands run in groups of their own)"),
    M("seam-no-session-groups", "seam", "harness/lane/seam.py",
      "groups |= session_groups(proc.pid)", "groups |= set()",
      "after a normal exit only codex's own group is killed: a command 0.80 left in its own group survives",
      "no build of the default selection (0.20.0, 0.117.0, 0.169.0) leaves a command's group in codex's session: "
      "0.80.0 does, and its leftover-child cell fails (measured before the fix); --versions 0.80.0 kills it"),
    M("seam-stdin-pipe", "seam", "harness/lane/seam.py",
      "stdin=subprocess.DEVNULL,", "stdin=subprocess.PIPE,",
      "codex's stdin left an open pipe (0.118+ read it to EOF and hang)"),
    M("seam-extra-env-dropped", "seam", "harness/lane/seam.py",
      "    env.update(req.extra_env)\n", "",
      "the caller's extra environment (provider URL, RUST_LOG, ...) never reaches codex"),
    # -- credentials ----------------------------------------------------------------------------------
    M("credentials-legacy-var", "credentials", "harness/lane/seam.py",
      'if parsed is not None and parsed < THREAD_EVENTS_SINCE:\n        return "OPENAI_API_KEY"',
      'if parsed is not None and parsed < (0, 20, 0):\n        return "OPENAI_API_KEY"',
      "builds before 0.44 get the key as CODEX_API_KEY, which they do not read"),
    M("credentials-auth-json-unchecked", "credentials", "harness/lane/credentials.py",
      "    if home is not None and auth_json_usable(home):",
      "    if home is not None and (home / \"config.toml\").exists():",
      "any CODEX_HOME with a config counts as logged in"),
    # -- executable -----------------------------------------------------------------------------------
    M("executable-path-first", "executable", "harness/lane/executable.py",
      "    named = _named_location(explicit, env)\n    if named is not None:\n        location, source = named\n"
      "        path = os.path.abspath",
      "    named = None if shutil.which(\"codex\", path=env.get(\"PATH\", \"\")) else _named_location(explicit, env)\n"
      "    if named is not None:\n        location, source = named\n        path = os.path.abspath",
      "codex on PATH preferred to the one the user named"),
    M("executable-env-over-explicit", "executable", "harness/lane/executable.py",
      "    if explicit:\n        return explicit, \"explicit\"\n    named = env.get(CODEX_CLI_PATH_ENV, \"\")\n"
      "    if named:\n        return named, \"env\"\n",
      "    named = env.get(CODEX_CLI_PATH_ENV, \"\")\n    if named:\n        return named, \"env\"\n"
      "    if explicit:\n        return explicit, \"explicit\"\n",
      "CODEX_CLI_PATH wins over an explicit path"),
    M("executable-symlink-resolved", "executable", "harness/lane/executable.py",
      "path = os.path.abspath(os.path.expanduser(location))",
      "path = os.path.realpath(os.path.expanduser(location))",
      "a named path reported with its links resolved, not as the user named it"),
)


def load_mutants(path: Path) -> tuple[Mutant, ...]:
    """A mutant set from a JSON file (see the module docstring); one clear line when it is malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--mutant-file {path}: cannot read it as JSON ({exc})") from None
    fields = {"id", "category", "path", "old", "new", "bug", "survives"}
    if not isinstance(data, list) or not data:
        raise SystemExit(f"--mutant-file {path}: expected a non-empty JSON list of mutant objects")
    mutants = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not {"id", "category", "path", "old", "new", "bug"} <= item.keys() \
                or not item.keys() <= fields or not all(isinstance(v, str) for v in item.values()):
            raise SystemExit(f"--mutant-file {path}: item {i} needs the string fields id, category, path, old, new, "
                             "bug (and optionally survives), nothing else")
        if Path(item["path"]).is_absolute() or ".." in Path(item["path"]).parts:
            raise SystemExit(f"--mutant-file {path}: item {i}: path must be relative to the checkout")
        mutants.append(Mutant(**item))
    return tuple(mutants)


def check_mutants(mutants: Sequence[Mutant], root: Path = ROOT) -> None:
    """Every mutant's ``old`` text occurs exactly once in its file (else the set is stale)."""
    ids = [m.id for m in mutants]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate mutant ids")
    for m in mutants:
        count = (root / m.path).read_text(encoding="utf-8").count(m.old)
        if count != 1:
            raise SystemExit(f"mutant {m.id}: its text occurs {count} times in {m.path}: update the mutant set")


def copy_checkout(dest: Path, root: Path = ROOT) -> None:
    """The checkout's tracked files, as they are in the working tree, into ``dest``."""
    names = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True, capture_output=True).stdout
    for name in filter(None, names.decode().split("\0")):
        source = root / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def apply(mutant: Mutant, dest: Path) -> None:
    path = dest / mutant.path
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(mutant.old, mutant.new, 1), encoding="utf-8")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a unit test checks Python's own SIGINT handler


@dataclass
class Verdict:
    outcome: str  # killed | survived | error | skipped
    seconds: float
    detail: str = ""


def _failure_in_suite_logs(out: Path) -> str | None:
    """The first failing test a container has reported so far (its suite log, after known regressions
    were applied, so a fail or a strict xpass there is final), else None."""
    try:  # the run renames and removes its staging dirs while we look
        logs = sorted(out.glob("**/suite-log.jsonl"))
    except OSError:
        return None
    for log in logs:
        try:
            lines = log.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("kind") == "test" and record.get("outcome") in ("fail", "xpass"):
                return f"{record.get('name')} @ {record.get('cell')}"
    return None


def run_contract(copy: Path, out: Path, args: argparse.Namespace) -> Verdict:
    """One contract run; with ``--fail-fast`` it is interrupted (Ctrl-C: containers removed) at the first
    failing test, since one failure kills the mutant (a mutant that makes every run wait for the lane's
    timeout would otherwise hold the machine for a quarter of an hour)."""
    argv = [sys.executable, "-m", "harness", "run", "--matrix", str(copy / "matrix.yaml"),
            "--versions", args.versions, "--credentials", args.credentials, "--policies", args.policies,
            "--out", str(out), "-j", "1", "--keep", "never"]
    t0 = time.monotonic()
    log = out.parent / f".{out.name}.log"
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(argv, cwd=copy, env=_env(copy), stdout=sink, stderr=subprocess.STDOUT,
                                preexec_fn=_default_sigint)
        first: str | None = None
        while proc.poll() is None:
            time.sleep(2)
            if args.fail_fast and first is None and (first := _failure_in_suite_logs(out)) is not None:
                proc.send_signal(signal.SIGINT)
        returncode = proc.wait()
    seconds = time.monotonic() - t0
    if first is not None:
        return Verdict("killed", seconds, f"{first} (stopped at the first failure)")
    if returncode == 0:
        return Verdict("survived", seconds)
    if returncode == 1:
        return Verdict("killed", seconds, _first_failures(out / "results.json"))
    tail = log.read_text(encoding="utf-8").strip().splitlines()[-1:] or [""]
    return Verdict("error", seconds, f"exit {returncode}: {tail[0][:200]}")


def _first_failures(results: Path, limit: int = 3) -> str:
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    names: list[str] = []
    for cell in data.get("cells", []):
        for test in cell.get("tests", []):
            if test.get("outcome") in ("fail", "error", "xpass"):
                name = f"{test['name']} @ {cell.get('id') or cell.get('cell', {}).get('id')}"
                if test["name"] not in {n.split(" @ ")[0] for n in names}:
                    names.append(name)
    return "; ".join(names[:limit])


def run_unit(copy: Path) -> Verdict:
    argv = [sys.executable, "-m", "pytest", "tests/unit", "-x", "-q", "-p", "no:cacheprovider"]
    t0 = time.monotonic()
    proc = subprocess.run(argv, cwd=copy, env=_env(copy), capture_output=True, text=True, preexec_fn=_default_sigint)
    seconds = time.monotonic() - t0
    if proc.returncode == 0:
        return Verdict("survived", seconds)
    failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    detail = (failed[:1] or [f"exit {proc.returncode}"])[0]
    return Verdict("killed" if proc.returncode == 1 else "error", seconds, detail)


def _env(copy: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(copy)}


def score(verdicts: Sequence[Verdict]) -> str:
    judged = [v for v in verdicts if v.outcome in ("killed", "survived")]
    killed = sum(v.outcome == "killed" for v in judged)
    if not judged:
        return "n/a"
    return f"{killed}/{len(judged)} ({100 * killed / len(judged):.0f} %)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the mutant set and exit")
    parser.add_argument("--mutant-file", type=Path,
                        help="score the mutants in this JSON file instead of this benchmark's own set")
    parser.add_argument("--mutants", help="comma-separated ids (default: all)")
    parser.add_argument("--categories", help="comma-separated categories (default: all)")
    parser.add_argument("--versions", default=DEFAULT_VERSIONS)
    parser.add_argument("--credentials", default=DEFAULT_CREDENTIALS)
    parser.add_argument("--policies", default=DEFAULT_POLICIES)
    parser.add_argument("--no-unit", action="store_true", help="skip the unit suite")
    parser.add_argument("--no-contract", action="store_true", help="skip the contract selection")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run (not recommended)")
    parser.add_argument("--save", type=Path, help="keep every run's out dir here, and write verdicts.jsonl")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop a mutant's contract run at its first failing test (it is killed then)")
    args = parser.parse_args(argv)

    mutants = list(load_mutants(args.mutant_file) if args.mutant_file else MUTANTS)
    check_mutants(mutants)
    if args.mutants:
        wanted = args.mutants.split(",")
        unknown = [w for w in wanted if w not in {m.id for m in mutants}]
        if unknown:
            raise SystemExit(f"unknown mutant(s): {', '.join(unknown)} (see --list)")
        mutants = [m for m in mutants if m.id in wanted]
    if args.categories:
        mutants = [m for m in mutants if m.category in args.categories.split(",")]
    if args.list:
        for m in mutants:
            print(f"{m.id:42} {m.category:12} {m.bug}")
        print(f"{len(mutants)} mutants")
        return 0

    selection = f"--versions {args.versions} --credentials {args.credentials} --policies {args.policies}"
    print(f"mutation benchmark: {len(mutants)} mutants; contract selection {selection}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="cnm-mutation-"))
    saved = args.save
    if saved is not None:
        saved.mkdir(parents=True, exist_ok=True)
    results: list[tuple[Mutant | None, Verdict, Verdict]] = []
    snapshot = work / "snapshot"  # taken once: edits to the checkout during the run change no later mutant
    copy_checkout(snapshot)
    try:
        for mutant in ([None] if not args.no_baseline else []) + mutants:  # type: ignore[operator]
            name = mutant.id if mutant else "baseline"
            copy = work / name
            shutil.copytree(snapshot, copy, symlinks=True)
            if mutant is not None:
                apply(mutant, copy)
            out = (saved / name) if saved is not None else work / f"{name}.out"
            skipped = Verdict("skipped", 0.0)
            contract = skipped if args.no_contract else run_contract(copy, out, args)
            unit = skipped if args.no_unit else run_unit(copy)
            shutil.rmtree(copy, ignore_errors=True)
            print(f"{name:42} contract {contract.outcome:8} ({contract.seconds:5.0f} s)  unit {unit.outcome:8} "
                  f"({unit.seconds:4.0f} s)  {contract.detail or unit.detail}"[:260], flush=True)
            if saved is not None:
                with (saved / "verdicts.jsonl").open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"mutant": name, "contract": vars(contract), "unit": vars(unit)}) + "\n")
            if mutant is None:
                if contract.outcome not in ("survived", "skipped") or unit.outcome not in ("survived", "skipped"):
                    print(f"baseline does not pass (contract {contract.outcome}, unit {unit.outcome}): "
                          "no mutation score means anything until it does", flush=True)
                    return 2
                continue
            results.append((mutant, contract, unit))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"contract score: {score([c for _, c, _ in results])}   ({selection}, -j 1)")
    print(f"unit score:     {score([u for _, _, u in results])}   (pytest tests/unit -x)")
    survivors = [m for m, c, _ in results if m is not None and c.outcome == "survived"]
    if survivors:
        print("contract survivors:")
        for m in survivors:
            print(f"  {m.id}: {m.bug}. Why: {m.survives or 'NOT EXPLAINED: a gap in the contract suite'}")
    errors = [m.id for m, c, u in results if m is not None and "error" in (c.outcome, u.outcome)]
    if errors:
        print(f"benchmark errors (not scored): {', '.join(errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
