"""Benchmark: how close a warm matrix run comes to its CPU floor, and how fast a fresh daemon gets going.

    .venv/bin/python tests/benchmarks/bench_matrix.py                       # the default matrix, warm
    .venv/bin/python tests/benchmarks/bench_matrix.py --versions 0.117.0    # a selection
    .venv/bin/python tests/benchmarks/bench_matrix.py --fresh-daemon        # + first cell on an empty daemon
    .venv/bin/python tests/benchmarks/bench_matrix.py --before main --save /tmp/bench-before

Runs ``codex-matrix run`` (this checkout's code, or with ``--before REF`` the code of a git ref, unpacked
with ``git archive``) as a subprocess, exactly as a user does, and prints from that one run:

* wall time; CPU seconds of the whole machine during the run (``/proc/stat``, every process, the
  containers included); the CPU floor (CPU seconds / cores) and the ratio wall / floor; the run's own
  CPU (harness process tree + its containers' cgroups) and what the rest of the machine used meanwhile,
  since on a shared machine the machine-wide figure holds other work too;
* the sum of lane wall times (facts.json ``wall_s`` per (cell, scenario)) and the share spent waiting
  (runs that ended by the lane's timeout, see ``phases.py``);
* a breakdown per phase: start-up and images, container start, suite collection, lane runs, suite
  teardown, harvest, container stop, reports;
* with ``--fresh-daemon``: with a build cache restored (the codex trees and the base rootfs, hard-linked
  from the machine's cache into a private cache dir) and a private, empty dockerd, the time from
  ``run --versions 0.117.0`` start until its first cell starts (the suite log's plan line: collection
  done, lane runs submitted); that run is then interrupted.

``--save DIR`` keeps the figures (``bench.txt``, ``bench.json``) and the run's cell ids and statuses
(``statuses.txt``, one ``id status`` line each), so a before and an after run compare with ``diff``.
Machines are noisy, and this one may be shared: each ratio is measured within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(CHECKOUT)]

from cpu import ContainerCPU, EventRecorder, children_cpu_s, machine_sample  # noqa: E402
from phases import job_phases, lane_stats, marks_from_events, marks_from_results, run_span  # noqa: E402
from private_daemon import private_dockerd, why_not  # noqa: E402

from harness import labels  # noqa: E402
from harness.binaries.cache import cache_root  # noqa: E402
from harness.docker_env import docker_client  # noqa: E402

FRESH_VERSION = "0.117.0"
BASE_ROOTFS_DIR = "base-rootfs"  # where the build cache keeps base root filesystems (harness/images/basecache.py)


class Report:
    """Prints figures as they come and keeps them for ``--save``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.data: dict[str, Any] = {}

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def row(self, label: str, value: float | None, unit: str = "s", note: str = "") -> None:
        shown = "n/a" if value is None else f"{value:8.1f} {unit}"
        self.say(f"  {label:<34}{shown:>11}{('   ' + note) if note else ''}")


def code_tree(ref: str | None, scratch: Path) -> Path:
    """This checkout, or the files of ``ref`` unpacked from git (no worktree, nothing in .git changes)."""
    if ref is None:
        return CHECKOUT
    target = scratch / "tree"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(CHECKOUT), "archive", "--format=tar", ref],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def harness_argv(args: argparse.Namespace, out: Path, versions: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "harness", "run", "--out", str(out), "--keep", "never"]
    for flag in ("credentials", "policies", "scenarios", "cells"):
        if getattr(args, flag):
            argv += [f"--{flag}", getattr(args, flag)]
    if versions or args.versions:
        argv += ["--versions", versions or args.versions]
    if args.jobs:
        argv += ["-j", str(args.jobs)]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    return argv


def bench_matrix(args: argparse.Namespace, tree: Path, scratch: Path, report: Report) -> None:
    out = scratch / "out"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = harness_argv(args, out)
    client = docker_client()
    cores = os.cpu_count() or 1
    report.say(f"run: {' '.join(argv[2:])}  (code: {args.before or 'this checkout'})")
    m0, own0, t0, mono0 = machine_sample(), children_cpu_s(), time.time(), time.monotonic()
    with ContainerCPU(client, out, f"{labels.KIND}=run") as containers, EventRecorder(client) as recorder, \
            (scratch / "run.log").open("wb") as log:
        proc = subprocess.run(argv, cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False)
        wall, t1 = time.monotonic() - mono0, time.time()
        m1, own1 = machine_sample(), children_cpu_s()
    results = json.loads((out / "results.json").read_text())
    machine_cpu = m1.busy_s - m0.busy_s
    harness_cpu, container_cpu = own1 - own0, containers.total_s
    own = harness_cpu + container_cpu
    idle = m1.idle_s - m0.idle_s
    summary = {k: v for k, v in results["summary"].items() if v}
    report.say(f"exit {proc.returncode}; {len(results['cells'])} cells: {summary}")
    report.say(f"machine: {cores} cores; load average {m0.loadavg[0]:.1f} before, {m1.loadavg[0]:.1f} after")
    report.row("wall", wall)
    report.row("machine CPU (all processes)", machine_cpu)
    report.row("CPU floor (machine CPU / cores)", machine_cpu / cores)
    report.say(f"  {'ratio wall / floor':<34}{wall / (machine_cpu / cores):>9.2f} x"
               f"   (cores idle {idle / (wall * cores):.0%} of the run)")
    report.row("this run's CPU", own, note=f"harness {harness_cpu:.1f} s + {len(containers.cpu)} containers "
                                          f"{container_cpu:.1f} s")
    report.row("its floor (own CPU / cores)", own / cores)
    report.say(f"  {'ratio wall / own floor':<34}{wall / max(own / cores, 1e-9):>9.2f} x"
               f"   (the rest of the machine used {max(machine_cpu - own, 0) / (wall * cores):.0%} of its cores)")
    report.say(f"  {'share of the CPU left to it used':<34}{own / max(own + idle, 1e-9):>9.0%}"
               f"     (own CPU / (own CPU + idle): how well the run fills the cores others leave free)")

    lanes = lane_stats(out)
    report.say(f"lane runs: {lanes.runs}, their wall times sum to {lanes.wall_s:.1f} s")
    share = lanes.waiting_s / lanes.wall_s if lanes.wall_s else 0.0
    report.say(f"  waiting (ended by the lane's timeout): {lanes.waiting_runs} runs, {lanes.waiting_s:.1f} s "
               f"({share:.0%}); by build: " +
               ", ".join(f"{v} {s:.0f} s" for v, s in sorted(lanes.waiting_by_version.items())))
    report.say(f"  lane wall − containers' CPU: {lanes.wall_s - container_cpu:.1f} s "
               f"(upper bound of waiting of every kind)")
    report.say("  by scenario: " + ", ".join(f"{s} {v:.0f}" for s, v in sorted(lanes.by_scenario.items(),
                                                                              key=lambda kv: -kv[1])))
    report.say("  longest: " + ", ".join(f"{name} {w:.1f}" for w, name in lanes.longest))

    marks = marks_from_results(results)
    source = "the run's own timings"
    if marks is None:
        marks = marks_from_events(recorder.events, containers.names)
        source = "Docker events (this code records no timings)"
    report.say(f"phases ({source}; per-container phases summed over {len(marks)} containers):")
    span = run_span(marks)
    images_s = (results.get("timings") or {}).get("images_s")
    report.row("start-up + images (wall)", span[0] - t0 if span else None,
               note=f"of which images {images_s:.1f} s" if isinstance(images_s, int | float) else "")
    for name, seconds in job_phases(marks).items():
        report.row(name, seconds)
    report.row("reports + exit (wall)", t1 - span[1] if span else None)
    statuses = sorted(f"{c['id']} {c['status']}" for c in results["cells"])
    digest = hashlib.sha256("\n".join(statuses).encode()).hexdigest()[:16]
    report.say(f"cell ids + statuses: sha256 {digest}")
    report.data["matrix"] = {
        "argv": argv[2:], "exit": proc.returncode, "wall_s": wall, "machine_cpu_s": machine_cpu, "cores": cores,
        "ratio": wall / (machine_cpu / cores), "own_cpu_s": own, "harness_cpu_s": harness_cpu,
        "container_cpu_s": container_cpu, "idle_share": idle / (wall * cores), "idle_s": idle,
        "loadavg": [m0.loadavg, m1.loadavg],
        "lane_runs": lanes.runs, "lane_wall_s": lanes.wall_s, "waiting_runs": lanes.waiting_runs,
        "waiting_s": lanes.waiting_s, "phases": job_phases(marks), "statuses_sha256": digest, "summary": summary,
    }
    report.data["statuses"] = statuses
    if args.save:
        shutil.copy(scratch / "run.log", args.save / "run.log")
        shutil.copy(out / "results.json", args.save / "results.json")


def restore_cache(versions: list[str], into: Path) -> list[str]:
    """A CI cache restore: the versions' trees and the base rootfs, hard-linked from the machine's cache."""
    source = cache_root()
    restored = []
    for name in [*versions, BASE_ROOTFS_DIR]:
        if (source / name).is_dir():
            subprocess.run(["cp", "-al", str(source / name), str(into / name)], check=True)
            restored.append(name)
    return restored


def bench_fresh_daemon(args: argparse.Namespace, tree: Path, scratch: Path, report: Report) -> None:
    reason = why_not()
    if reason:
        report.say(f"fresh daemon: skipped ({reason})")
        return
    cache = scratch / "cache"
    cache.mkdir()
    restored = restore_cache([FRESH_VERSION], cache)
    out = scratch / "fresh-out"
    argv = harness_argv(args, out, versions=FRESH_VERSION)
    report.say(f"fresh daemon: {' '.join(argv[2:])}; cache restored: {', '.join(restored) or 'nothing'}")
    with private_dockerd(Path(tempfile.mkdtemp(prefix="cnm-bench-dd-", dir="/tmp"))) as host:
        env = {**os.environ, "PYTHONPATH": str(tree), "DOCKER_HOST": host, "CODEX_MATRIX_CACHE": str(cache)}
        first: float | None = None
        m0 = time.monotonic()
        with (scratch / "fresh.log").open("wb") as log:
            proc = subprocess.Popen(argv, cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            while proc.poll() is None and time.monotonic() - m0 < args.fresh_limit:
                if _planned(out):
                    first = time.monotonic() - m0
                    break
                time.sleep(0.05)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # the figure is taken: stop the run as Ctrl-C would
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    lines = (scratch / "fresh.log").read_text(errors="replace").splitlines()
    if first is None:
        report.say(f"  first cell never started (exit {proc.returncode}): {' | '.join(lines[-3:])}")
    else:
        report.row(f"first cell of {FRESH_VERSION} started after", first)
    for line in lines:  # the image steps as the run reported them (one line each, with their time)
        if line.startswith(("docker import", "build codex-native-matrix", "cannot pull", "debootstrap",
                            "keep the")):
            report.say(f"    {line.strip()[:150]}")
    fresh: dict[str, Any] = {"first_cell_s": first, "restored": restored}
    with contextlib.suppress(OSError, ValueError):
        timings = json.loads((out / "results.json").read_text()).get("timings") or {}
        marks = next(iter((timings.get("jobs") or {}).values()), {})
        fresh["images_s"] = timings.get("images_s")
        if {"start", "started", "exec", "plan"} <= set(marks):
            fresh["container_start_s"] = marks["started"] - marks["start"]
            fresh["collection_s"] = marks["plan"] - marks["exec"]
            report.say(f"    images {fresh['images_s']:.1f} s, container start {fresh['container_start_s']:.1f} s, "
                       f"suite collection {fresh['collection_s']:.1f} s")
    report.data["fresh_daemon"] = fresh
    if args.save:
        shutil.copy(scratch / "fresh.log", args.save / "fresh.log")


def _planned(out: Path) -> bool:
    for log in out.glob("raw/*/suite-log.jsonl"):
        try:
            with log.open("rb") as fh:
                if b'"kind": "plan"' in fh.readline():
                    return True
        except OSError:
            continue
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag in ("versions", "credentials", "policies", "scenarios", "cells"):
        parser.add_argument(f"--{flag}", default=None, help=f"passed to `codex-matrix run --{flag}`")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="passed to `run -j` (default: run's own)")
    parser.add_argument("--workers", type=int, default=None, help="passed to `run --workers` (default: run's own)")
    parser.add_argument("--before", metavar="REF", default=None,
                        help="benchmark the code of a git ref (e.g. main) instead of this checkout")
    parser.add_argument("--save", type=Path, default=None, metavar="DIR", help="keep figures and statuses here")
    parser.add_argument("--fresh-daemon", action="store_true",
                        help=f"also time the first cell of `run --versions {FRESH_VERSION}` on a private empty dockerd")
    parser.add_argument("--fresh-limit", type=float, default=600.0, help="give up on the first cell after this")
    parser.add_argument("--no-matrix", action="store_true", help="skip the warm matrix run")
    args = parser.parse_args()
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="cnm-bench-") as tmp:
        scratch = Path(tmp)
        tree = code_tree(args.before, scratch)
        if not args.no_matrix:
            bench_matrix(args, tree, scratch, report)
        if args.fresh_daemon:
            bench_fresh_daemon(args, tree, scratch, report)
    if args.save:
        (args.save / "bench.txt").write_text("\n".join(report.lines) + "\n")
        (args.save / "bench.json").write_text(json.dumps({k: v for k, v in report.data.items() if k != "statuses"},
                                                         indent=2) + "\n")
        (args.save / "statuses.txt").write_text("\n".join(report.data.get("statuses", [])) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
