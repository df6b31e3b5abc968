"""Benchmark: what one atlas release costs, phase by phase, and what the whole atlas would cost.

    .venv/bin/python tests/benchmarks/bench_atlas.py [--since 0.97.0] [--until 0.101.0] [-j 2] [--workers 4]

Runs the real atlas (library, not a subprocess) on a small range with an EMPTY private build cache, so
every release is downloaded and unpacked; images that already exist for a release are reused (the
``reused`` column says so: that release's image time is not a cold figure) and never removed. Prints:

* per release: download, unpack, image, runs, cleanup and total seconds (wall), and CPU seconds of the
  preparation (this process's thread) and of the cell runs (the container's cgroup);
* the wall time of the whole pass (phases of consecutive releases overlap), peak disk use beyond the
  base image, sampled every 0.5 s: the private cache (hard links counted once), this process's temp
  dir (docker-py tars the build context there), Docker's build-context dir, images the pass created
  (their size minus the base image's) and the output directory;
* an extrapolation to every stable release in the registry, from the measured means per packaging
  era, both as measured (under the machine's current load) and from CPU seconds on 2 idle cores, with
  the load average beside it, because on a shared machine wall time measures the neighbours too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _tree_bytes(root: Path) -> int:
    """Apparent size of everything below ``root``, each inode once (build contexts are hard links)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


class DiskSampler(threading.Thread):
    """Samples the atlas's own disk footprint every ``interval`` seconds; keeps the peak."""

    def __init__(self, client: Any, dirs: list[Path], images_before: set[str], base_size: int,
                 interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.client, self.dirs, self.before, self.base_size = client, dirs, images_before, base_size
        self.interval, self.peak, self.stop = interval, 0, threading.Event()
        self.peak_parts: dict[str, int] = {}

    def sample(self) -> None:
        parts = {str(d): _tree_bytes(d) for d in self.dirs if d.exists()}
        new_images = 0
        try:
            for image in self.client.images.list(filters={"label": "codex-native-matrix.kind=codex"}):
                if image.id not in self.before:
                    new_images += max(0, int(image.attrs.get("Size", 0)) - self.base_size)
        except Exception:
            pass
        parts["new images"] = new_images
        total = sum(parts.values())
        if total > self.peak:
            self.peak, self.peak_parts = total, parts

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", default="0.97.0")
    parser.add_argument("--until", default="0.101.0")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="keep the atlas here (default: a temp dir)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="cnm-bench-atlas-"))
    tmp = scratch / "tmp"
    tmp.mkdir()
    os.environ["TMPDIR"] = str(tmp)  # docker-py's build-context tarball lands here, where it is measured
    tempfile.tempdir = None

    from harness.atlas import write_timeline
    from harness.atlas.releases import parse_bound, stable_releases
    from harness.atlas.runner import Atlas, AtlasOptions, new_atlas_reporter
    from harness.binaries import registry as npm
    from harness.docker_env import docker_client
    from harness.images import ensure_base_image
    from harness.matrix import load_matrix

    load0 = os.getloadavg()
    config = load_matrix()
    registry = npm.registry_url()
    doc = npm.packument(registry)
    releases = stable_releases(doc, registry, since=parse_bound("--since", args.since),
                               until=parse_bound("--until", args.until))
    everything = stable_releases(doc, registry)
    client = docker_client()
    base_tag = ensure_base_image(client)
    base_size = int(client.images.get(base_tag).attrs.get("Size", 0))
    before = {i.id for i in client.images.list()}
    out = args.out or scratch / "atlas"
    cache = scratch / "cache"
    sampler = DiskSampler(client, [cache, tmp, out, Path("/var/lib/docker/tmp")], before, base_size)
    options = AtlasOptions(out_dir=out, jobs=args.jobs, cache_dir=cache, workers=args.workers)
    atlas = Atlas(client, config, base_tag, options, new_atlas_reporter(lambda s: print(s, flush=True)), packument=doc)
    print(f"{len(releases)} releases ({releases[0].version} … {releases[-1].version}), -j {args.jobs}, "
          f"--workers {args.workers}, {os.cpu_count()} cores, load average at start {load0[0]:.1f}", flush=True)
    sampler.start()
    t0 = time.monotonic()
    outcome = atlas.run(releases, resume=False)
    wall = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    sampler.sample()
    load1 = os.getloadavg()
    records = {r["version"]: r for r in atlas.log.read()}
    write_timeline(out, records.values())

    print()
    head = (f"{'release':>9} {'status':>15} {'reused':>12} {'download':>8} {'unpack':>7} {'image':>6} {'runs':>6} "
            f"{'clean':>6} {'total':>6} {'cpu prep':>8} {'cpu runs':>8} {'tree MB':>7} {'image MB':>8}")
    print(head)
    for version in outcome.recorded:
        r = records[version]
        t, cpu, z = r["timings"], r["cpu"], r["sizes"]
        reused = ",".join(k for k, v in r["reused"].items() if v) or "-"
        print(f"{version:>9} {r['status']:>15} {reused:>12} {t['download_s']:8.1f} {t['unpack_s']:7.1f} "
              f"{t['image_s']:6.1f} {t['runs_s']:6.1f} {t['cleanup_s']:6.1f} {t['total_s']:6.1f} "
              f"{cpu['prepare_s'] or 0:8.1f} {cpu['runs_s'] or 0:8.1f} {(z['tree_bytes'] or 0) / 1e6:7.0f} "
              f"{(z['image_bytes'] or 0) / 1e6:8.0f}")
    ran = [records[v] for v in outcome.recorded if records[v]["status"] == "ok"]
    phase_sum = sum(r["timings"]["total_s"] for r in records.values() if r["version"] in outcome.recorded)
    print(f"\nwall {wall:.1f} s for {len(outcome.recorded)} releases ({wall / max(1, len(outcome.recorded)):.1f} s "
          f"each; phase sum {phase_sum:.1f} s), load average {load0[0]:.1f} → {load1[0]:.1f}")
    print(f"peak disk beyond the base image: {sampler.peak / 1e9:.2f} GB ("
          + ", ".join(f"{Path(k).name or k} {v / 1e6:.0f} MB" for k, v in sampler.peak_parts.items() if v) + ")")

    # Extrapolation: per-era means of what was measured, times the registry's releases of each era.
    def era(version: str) -> str:
        from packaging.version import Version

        return "split (>=0.99)" if Version(version) >= Version("0.99.0") else "fat (<0.99)"

    measured: dict[str, list[dict[str, Any]]] = {}
    for r in ran:
        measured.setdefault(era(r["version"]), []).append(r)
    counts: dict[str, int] = {}
    for rel in everything:
        if not rel.unavailable:
            counts[era(rel.version)] = counts.get(era(rel.version), 0) + 1
    print(f"\nregistry: {len(everything)} stable releases, "
          + ", ".join(f"{n} installable {e}" for e, n in counts.items()))
    per_release_wall = wall / max(1, len(outcome.recorded))
    est_wall = 0.0
    est_cpu = 0.0
    for name, n in counts.items():
        rows = measured.get(name) or ran
        if not rows:
            continue
        prep = _mean([r["timings"]["download_s"] + r["timings"]["unpack_s"] + r["timings"]["image_s"] for r in rows])
        runs = _mean([r["timings"]["runs_s"] for r in rows])
        cpu = _mean([(r["cpu"]["prepare_s"] or 0) + (r["cpu"]["runs_s"] or 0) for r in rows])
        basis = "measured" if measured.get(name) else "borrowed from the other era"
        print(f"  {name}: {basis} means prepare {prep:.1f} s, runs {runs:.1f} s, cpu {cpu:.1f} s per release")
        est_wall += n * max(prep, runs) if args.jobs > 1 else n * (prep + runs)
        est_cpu += n * cpu
    print(f"extrapolated full atlas, pipelined as measured (load {load0[0]:.0f}–{load1[0]:.0f}): "
          f"{est_wall / 60:.0f} min (this pass: {per_release_wall:.1f} s per release)")
    print(f"CPU-bound floor on 2 idle cores: {est_cpu / 2 / 60:.0f} min of the measured CPU seconds "
          "(excludes dockerd's share of image builds; waits inside runs add to it)")
    if args.out is None:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 130 if outcome.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
