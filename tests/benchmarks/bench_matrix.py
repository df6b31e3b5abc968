"""Benchmark: what the matrix's speed choices buy, as ratios measured in one run.

    .venv/bin/python tests/benchmarks/bench_matrix.py [--versions 0.117.0] [--repeat 2] [--cold]

Prints, for the same cells:
  * lane runs at once inside a container: ``--workers 1`` vs ``--workers 4`` (wall time and ratio);
  * image preparation warm (everything cached: should build and download nothing) and, with ``--cold``,
    cold (project images pruned and an empty build cache, so base bootstrap + downloads + builds).
``--cold`` removes this project's images; the build cache it empties is a temporary one.
Machines are noisy: compare the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness.docker_env import docker_client
from harness.images import ensure_images, prune
from harness.matrix import Selection, load_matrix, select, versions_of
from harness.run import JobRun, RunOptions, plan_jobs, run_jobs


class Quiet:
    """Reporter that reports nothing: the benchmark prints only its figures."""

    def job_started(self, job: JobRun) -> None: ...
    def job_progress(self, job: JobRun, done: int) -> None: ...
    def job_finished(self, job: JobRun) -> None: ...


def timed_run(cells: list, images: dict[str, str], workers: int, out: Path) -> tuple[float, bool]:  # type: ignore[type-arg]
    config = load_matrix()
    options = RunOptions(out_dir=out, timeouts=config.timeouts, workers=workers, keep="never")
    t0 = time.monotonic()
    results = run_jobs(plan_jobs(cells, images, options), options, Quiet())
    return time.monotonic() - t0, results.ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", default="0.117.0")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="also measure cold image preparation (prunes images)")
    args = parser.parse_args()
    client = docker_client()
    cells = select(load_matrix(), Selection(versions=args.versions))
    versions = versions_of(cells)
    runs = sum(len(c.scenarios) for c in cells)
    print(f"cells: {len(cells)} ({runs} lane runs) over {', '.join(versions)}")

    if args.cold:
        with tempfile.TemporaryDirectory(prefix="cnm-bench-cache-") as cache:
            prune(client, all_=True)
            t0 = time.monotonic()
            ensure_images(client, versions, cache_dir=Path(cache))
            cold = time.monotonic() - t0
        print(f"image preparation, cold (bootstrap + download + build): {cold:7.2f} s")
    t0 = time.monotonic()
    images = ensure_images(client, versions)
    warm = time.monotonic() - t0
    print(f"image preparation, warm (all cached):                    {warm:7.2f} s")
    if args.cold:
        print(f"  cold / warm = {cold / warm:.0f}x")

    with tempfile.TemporaryDirectory(prefix="cnm-bench-out-") as out:
        times: dict[int, list[float]] = {1: [], 4: []}
        for i in range(args.repeat):
            for workers in (1, 4):  # interleaved so drift hits both alike
                seconds, ok = timed_run(cells, images, workers, Path(out) / f"w{workers}-{i}")
                times[workers].append(seconds)
                if not ok:
                    print(f"warning: a cell missed its expectation with --workers {workers}", file=sys.stderr)
    one, four = statistics.median(times[1]), statistics.median(times[4])
    print(f"contract suite, --workers 1 (median of {args.repeat}): {one:7.2f} s")
    print(f"contract suite, --workers 4 (median of {args.repeat}): {four:7.2f} s")
    print(f"  speed-up from concurrent lane runs: {one / four:.2f}x on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
