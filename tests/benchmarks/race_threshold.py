"""Measure when a build loses a command's ``item.completed``: command duration × answer delay × build.

The ``tool-race`` scenario's verdict rests on a measured threshold (codex's 150 ms exit grace, see
``harness/fakeapi/scenarios.py``); this script re-measures it so anyone can check the figures in the
scenario's docstring and in matrix.yaml's rule. Each run is one real ``codex exec --json`` on this host,
in a container-like environment (empty ``HOME``, a fresh ``CODEX_HOME``, stdin at /dev/null), against
the fake Responses API on loopback: the fake asks for ``sleep S; echo marker`` through the shell tool
the build declared and answers the follow-up after ``--delay`` seconds (0: at once).

    .venv/bin/python tests/benchmarks/race_threshold.py --versions 0.130.0 --sleeps 0.1,0.14,0.15,0.3
    .venv/bin/python tests/benchmarks/race_threshold.py --versions 0.169.0 --sleeps 0,0.3 --runs 400 --parallel 4

It prints one line per (build, sleep): runs, how many lost the command's completion, how many printed a
completion whose output lacks the marker ("empty"), non-zero exits, and the load average. Run it with
nothing else heavy on the machine unless load is the factor under study (``--parallel`` adds load).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from harness.fakeapi import FakeResponsesAPI, write_codex_config  # noqa: E402
from harness.fakeapi import scenarios as sc  # noqa: E402
from harness.fakeapi.wire import TOOL_MARKER  # noqa: E402
from harness.lane.executable import release_of  # noqa: E402

KEY = "sk-race-threshold-0000-not-a-real-key"
#: A slug every build since 0.99 bundles: with it the build declares its shell tool as users see it.
MODEL = "gpt-5.5"


@dataclass(frozen=True)
class Probe:
    sleep_s: float
    delay_s: float
    tail: str = ""  # shell appended after the marker, e.g. a background child that holds the output open

    def script(self) -> str:
        head = f"sleep {self.sleep_s}; echo {TOOL_MARKER}" if self.sleep_s > 0 else f"echo {TOOL_MARKER}"
        return f"{head}; {self.tail}" if self.tail else head


@dataclass(frozen=True)
class Run:
    started: int
    completed: int
    empty: int
    exit_code: int
    wall_s: float

    @property
    def lost(self) -> bool:
        return self.completed < max(self.started, 1)


def _register(probe: Probe) -> str:
    """A scenario answering like ``tool-race`` with this probe's command and delay; returns its name."""
    name = f"race-probe-{probe.sleep_s}-{probe.delay_s}-{len(sc.SCENARIOS)}"

    def respond(ex: sc.Exchange) -> None:
        if ex.entry["has_tool_output"] and probe.delay_s:
            time.sleep(probe.delay_s)
        sc._call_or_reply(ex, 1, probe.script())

    sc.SCENARIOS[name] = sc.Scenario(name, respond, sc.COMPLETED, "race threshold probe")
    return name


def run_once(api: FakeResponsesAPI, codex: str, scenario: str, version: str, model: str | None) -> Run:
    root = Path(tempfile.mkdtemp(prefix="race-", dir=Path.home() / ".cache"))  # codex refuses helpers under /tmp
    try:
        home, cwd = root / "home", root / "work"
        cwd.mkdir(parents=True)
        codex_home = home / ".codex"
        url = api.provider_url(scenario, root.name)
        write_codex_config(codex_home, url, model=model, version=release_of(version))
        env = {"HOME": str(home), "CODEX_HOME": str(codex_home), "CODEX_API_KEY": KEY, "OPENAI_API_KEY": KEY,
               "PATH": "/usr/local/bin:/usr/bin:/bin", "OPENAI_BASE_URL": url}
        started_at = time.monotonic()
        proc = subprocess.run([codex, "exec", "--json", "--skip-git-repo-check",
                               "--dangerously-bypass-approvals-and-sandbox", "-C", str(cwd), "Run the command."],
                              stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=60, check=False)
        wall_s = time.monotonic() - started_at
    finally:
        shutil.rmtree(root, ignore_errors=True)
    started = completed = empty = 0
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        item = event.get("item") if isinstance(event, dict) else None
        if not isinstance(item, dict) or item.get("type") != "command_execution":
            continue
        if event.get("type") == "item.started":
            started += 1
        elif event.get("type") == "item.completed":
            completed += 1
            empty += TOOL_MARKER not in str(item.get("aggregated_output") or "")
    return Run(started, completed, empty, proc.returncode, wall_s)


def _codex(version: str) -> str:
    out = subprocess.run([sys.executable, "-m", "harness", "fetch", version], capture_output=True, text=True,
                         check=True).stdout
    return out.split("\t")[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", required=True, help="comma-separated codex releases")
    parser.add_argument("--sleeps", default="0.05,0.1,0.14,0.15,0.2,0.3", help="command durations (s)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before the follow-up is answered")
    parser.add_argument("--runs", type=int, default=6, help="runs per (build, sleep)")
    parser.add_argument("--parallel", type=int, default=1, help="codex processes at once")
    parser.add_argument("--tail", default="", help="shell run after the marker (e.g. 'sleep 2 &')")
    parser.add_argument("--model", default=MODEL, help=f"model slug (default {MODEL}; '' for the build's own)")
    args = parser.parse_args(argv)
    sleeps = [float(s) for s in args.sleeps.split(",") if s]
    with FakeResponsesAPI(valid_keys=[KEY]) as api:
        for version in args.versions.split(","):
            codex = _codex(version)
            for sleep_s in sleeps:
                scenario = _register(Probe(sleep_s, args.delay, args.tail))
                with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
                    futures = [pool.submit(run_once, api, codex, scenario, version, args.model or None)
                               for _ in range(args.runs)]
                    runs = [f.result() for f in futures]
                load = os.getloadavg()[0]
                no_call = sum(1 for r in runs if r.started == 0)
                print(f"{version:>9}  sleep {sleep_s:<5} delay {args.delay:<4} runs {len(runs):>4}  "
                      f"lost {sum(r.lost for r in runs):>4}  empty {sum(r.empty for r in runs):>3}  "
                      f"no-call {no_call:>3}  nonzero {sum(r.exit_code != 0 for r in runs):>3}  "
                      f"wall {statistics.median(r.wall_s for r in runs):.2f} s  load {load:.1f}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
