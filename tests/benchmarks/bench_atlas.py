"""Benchmark: what one atlas release costs, phase by phase, and what the whole atlas would cost.

    .venv/bin/python tests/benchmarks/bench_atlas.py [--since 0.97.0] [--until 0.101.0] [--cells default]
        [--install mount|image] [--parallel 2] [-j 3] [--workers 8]

``--install image --parallel 1 -j 2`` is the atlas as it was before builds were mounted and releases
ran side by side (an image per release, one container at a time, one release prepared ahead).

Runs the real atlas (library, not a subprocess) on a small range with an EMPTY private build cache, so
every release is downloaded and unpacked; images that already exist for a release are reused (the
``reused`` column says so: that release's image time is not a cold figure) and never removed. Prints:

* per release: download, unpack, image, runs, cleanup and total seconds (wall), and CPU seconds of the
  preparation (this process's thread) and of the cell runs (the container's cgroup);
* the wall time of the whole pass (phases of consecutive releases overlap), peak disk use beyond the
  base image, sampled every 0.5 s: the private cache (hard links counted once), this process's temp
  dir (docker-py tars the build context there), Docker's build-context dir, images the pass created
  (their size minus the base image's) and the output directory; beside it, how much more of the
  filesystem was used at the peak than at the start (everything on it, other users' work included);
* an extrapolation to every stable release in the registry, from the measured means per packaging
  era, both as measured (under the machine's current load) and from CPU seconds on 2 idle cores, with
  the load average beside it, because on a shared machine wall time measures the neighbours too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
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
        self.fs_start = shutil.disk_usage(dirs[0].parent).used  # the scratch dir: on the same filesystem
        self.fs_peak = 0

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
        with contextlib.suppress(OSError):
            self.fs_peak = max(self.fs_peak, shutil.disk_usage(self.dirs[0].parent).used - self.fs_start)
        total = sum(parts.values())
        if total > self.peak:
            self.peak, self.peak_parts = total, parts

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _nearest(version: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The measured release closest to ``version`` (the one at or below it when tied)."""
    from packaging.version import Version

    if not rows:
        return None
    want = Version(version)

    def distance(r: dict[str, Any]) -> tuple[int, int]:
        have = Version(r["version"])
        release_gap = abs((have.major * 1000 + have.minor) - (want.major * 1000 + want.minor))
        return release_gap, 0 if have <= want else 1

    return min(rows, key=distance)


def extrapolate(records: list[dict[str, Any]], everything: list[Any], jobs: int,
                load: tuple[float, float], parallel: int = 1) -> None:
    """Each installable release in the registry costs what the nearest measured release cost.

    Preparation phases are taken only from releases where they really ran (a reused tree or image
    measures nothing), runs from releases that ran. Pipelined (``jobs`` > 1): a release costs the
    longer of its runs and the next one's preparation; with ``parallel`` releases running at once, that
    divided by ``parallel`` (an upper bound on the overlap: the pass's own wall per release is printed
    beside it). Printed as measured (the machine's load then) and as a CPU floor on 2 idle cores.
    """
    ran = [r for r in records if r["status"] == "ok"]
    downloaded = [r for r in records if r["status"] == "ok" and not r["reused"]["build"]]
    built = [r for r in records if r["status"] == "ok" and not r["reused"]["image"]]
    if not ran:
        print("nothing ran: no extrapolation")
        return
    installable = [rel.version for rel in everything if not rel.unavailable]
    wall = cpu = 0.0
    for version in installable:
        run = _nearest(version, ran) or {}
        down = _nearest(version, downloaded) or run
        image = _nearest(version, built) or run
        prepare = down["timings"]["download_s"] + down["timings"]["unpack_s"] + image["timings"]["image_s"]
        runs = run["timings"]["runs_s"] + run["timings"]["cleanup_s"]
        wall += (max(prepare, runs) if jobs > 1 else prepare + runs) / max(1, parallel)
        cpu += ((down.get("cpu") or {}).get("prepare_s") or 0) + ((run.get("cpu") or {}).get("runs_s") or 0)
    print(f"\nregistry: {len(everything)} stable releases, {len(installable)} installable; measured {len(ran)} "
          f"(runs), {len(downloaded)} (download+unpack), {len(built)} (image build)")
    print(f"extrapolated full atlas as measured (load {load[0]:.0f}–{load[1]:.0f}): {wall / 60:.0f} min, "
          f"+ {len(everything) - len(installable)} not installable (seconds each)")
    print(f"CPU floor on 2 idle cores: {cpu / 2 / 60:.0f} min of measured CPU seconds (dockerd's share of image "
          "builds excluded; waits inside runs come on top)")


def print_table(records: list[dict[str, Any]]) -> None:
    print()
    print(f"{'release':>9} {'status':>15} {'reused':>12} {'download':>8} {'unpack':>7} {'image':>6} {'runs':>6} "
          f"{'clean':>6} {'total':>6} {'cpu prep':>8} {'cpu runs':>8} {'tree MB':>7} {'image MB':>8}")
    for r in records:
        t, cpu, z = r["timings"], r.get("cpu") or {}, r["sizes"]
        reused = ",".join(k for k, v in r["reused"].items() if v) or "-"
        print(f"{r['version']:>9} {r['status']:>15} {reused:>12} {t['download_s']:8.1f} {t['unpack_s']:7.1f} "
              f"{t['image_s']:6.1f} {t['runs_s']:6.1f} {t['cleanup_s']:6.1f} {t['total_s']:6.1f} "
              f"{cpu.get('prepare_s') or 0:8.1f} {cpu.get('runs_s') or 0:8.1f} {(z['tree_bytes'] or 0) / 1e6:7.0f} "
              f"{(z['image_bytes'] or 0) / 1e6:8.0f}")


def from_records(paths: list[Path], jobs: int, parallel: int = 1) -> int:
    from packaging.version import Version

    from harness.atlas.record import AtlasLog
    from harness.atlas.releases import stable_releases
    from harness.binaries import registry as npm

    merged: dict[str, dict[str, Any]] = {}
    for path in paths:
        for record in AtlasLog(path).read():
            merged[record["version"]] = record
    records = sorted(merged.values(), key=lambda r: Version(r["version"]))
    print_table(records)
    registry = npm.registry_url()
    extrapolate(records, stable_releases(npm.packument(registry), registry), jobs, os.getloadavg()[:2], parallel)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", default="0.97.0")
    parser.add_argument("--until", default="0.101.0")
    parser.add_argument("--all", action="store_true",
                        help="every stable release (the whole atlas; ignores --since/--until)")
    parser.add_argument("-j", "--jobs", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=2, help="releases whose containers run at once")
    parser.add_argument("--install", choices=("mount", "image"), default="mount")
    parser.add_argument("--disk-budget", type=int, default=1100, metavar="MB")
    parser.add_argument("--workers", type=int, default=None,
                        help="lane runs at once per container (default: the machine's slots, shared)")
    parser.add_argument("--cells", choices=("compact", "default"), default="default",
                        help="the cell set each release runs (atlas --cells)")
    parser.add_argument("--out", type=Path, default=None, help="keep the atlas here (default: a temp dir)")
    parser.add_argument("--records", type=Path, nargs="+", default=None, metavar="ATLAS_JSONL",
                        help="run nothing: print the breakdown and the extrapolation of recorded atlas.jsonl files")
    args = parser.parse_args()
    if args.records:
        return from_records(args.records, args.jobs, args.parallel)

    scratch = Path(tempfile.mkdtemp(prefix="cnm-bench-atlas-"))
    tmp = scratch / "tmp"
    tmp.mkdir()
    os.environ["TMPDIR"] = str(tmp)  # docker-py's build-context tarball lands here, where it is measured
    tempfile.tempdir = None

    from harness.atlas import write_timeline
    from harness.atlas.releases import parse_bound, stable_releases
    from harness.atlas.reporting import new_atlas_reporter
    from harness.atlas.runner import Atlas, AtlasOptions
    from harness.binaries import registry as npm
    from harness.docker_env import docker_client
    from harness.images import ensure_base_image
    from harness.matrix import load_matrix

    load0 = os.getloadavg()
    config = load_matrix()
    registry = npm.registry_url()
    doc = npm.packument(registry)
    releases = stable_releases(doc, registry) if args.all else stable_releases(
        doc, registry, since=parse_bound("--since", args.since), until=parse_bound("--until", args.until))
    everything = stable_releases(doc, registry)
    client = docker_client()
    base_tag = ensure_base_image(client)
    base_size = int(client.images.get(base_tag).attrs.get("Size", 0))
    before = {i.id for i in client.images.list()}
    out = args.out or scratch / "atlas"
    cache = scratch / "cache"
    sampler = DiskSampler(client, [cache, tmp, out, Path("/var/lib/docker/tmp")], before, base_size)
    options = AtlasOptions(out_dir=out, jobs=args.jobs, cache_dir=cache, workers=args.workers, cells=args.cells,
                           parallel=args.parallel, install=args.install, disk_budget_mb=args.disk_budget)
    atlas = Atlas(client, config, base_tag, options, new_atlas_reporter(lambda s: print(s, flush=True)), packument=doc)
    print(f"{len(releases)} releases ({releases[0].version} … {releases[-1].version}), --cells {args.cells}, "
          f"--install {args.install}, --parallel {args.parallel}, -j {args.jobs}, "
          f"--workers {args.workers or 'machine slots'}, "
          f"{os.cpu_count()} cores, load average at start {load0[0]:.1f}", flush=True)
    sampler.start()
    t0 = time.monotonic()
    outcome = atlas.run(releases, resume=False)
    wall = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    sampler.sample()
    load1 = os.getloadavg()
    records = {r["version"]: r for r in atlas.log.read()}
    write_timeline(out, records.values(), config=config)

    print_table([records[v] for v in outcome.recorded])
    phase_sum = sum(r["timings"]["total_s"] for r in records.values() if r["version"] in outcome.recorded)
    print(f"\nwall {wall:.1f} s for {len(outcome.recorded)} releases ({wall / max(1, len(outcome.recorded)):.1f} s "
          f"each; phase sum {phase_sum:.1f} s), load average {load0[0]:.1f} → {load1[0]:.1f}")
    names = {str(cache): "build cache", str(tmp): "temp dir", str(out): "atlas out dir",
             "/var/lib/docker/tmp": "docker tmp (every build on the daemon, neighbours' too)"}
    print(f"peak disk beyond the base image: {sampler.peak / 1e9:.2f} GB ("
          + ", ".join(f"{names.get(k, k)} {v / 1e6:.0f} MB" for k, v in sampler.peak_parts.items() if v) + ")")
    print(f"filesystem used at the peak beyond the start: {sampler.fs_peak / 1e9:.2f} GB (everything on it, "
          f"neighbours included); releases in flight at most: {outcome.peak_in_flight}")

    mine = [records[v] for v in outcome.recorded]
    missed = {r["version"]: sorted(k for k, c in r["cells"].items() if c["status"] not in ("pass", "xfail", "skip"))
              for r in mine if r["status"] == "ok"}
    missed = {v: keys for v, keys in missed.items() if keys}
    rules = json.loads((out / "atlas.json").read_text(encoding="utf-8")).get("rules") or []
    print(f"cells: {sum(len(r['cells']) for r in mine)} run, not met in {len(missed)} release(s)"
          + (": " + "; ".join(f"{v} {', '.join(k)}" for v, k in missed.items()) if missed else "")
          + f"; releases not ok: {sum(1 for r in mine if r['status'] != 'ok')}; known-regression rules: "
          f"{sum(1 for r in rules if r['agrees'])} of {len(rules)} agree with the observed ranges")
    extrapolate(mine, everything, args.jobs, (load0[0], load1[0]), args.parallel)
    installable = sum(1 for rel in everything if not rel.unavailable)
    print(f"this pass's wall per release x {installable} installable: "
          f"{wall / max(1, len(outcome.recorded)) * installable / 60:.0f} min")
    shutil.rmtree(scratch, ignore_errors=True)  # its cache and temp dir; an --out atlas lives elsewhere
    return 130 if outcome.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
