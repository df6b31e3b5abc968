"""The atlas pipeline: releases stream through fetch → image → runs → record → cleanup, oldest first.

Why this shape:

* **Bounded disk.** At most ``jobs`` builds exist at once: the release whose cells run, plus ``jobs - 1``
  being fetched and built ahead of it. A release's cached tree goes as soon as its image is built (the
  image holds it, the record holds its file list) and the image once the release is done, unless
  ``keep_builds``; anything that was on disk before the atlas reached it (a default
  matrix build, another run's cache) is never removed: the atlas only deletes what it brought in.
* **Overlap where it pays.** Downloads and image builds are I/O-bound and the cell runs CPU-bound, so
  the next release is prepared on a worker thread while the current one runs. Runs stay on the main
  thread, one container at a time (``run_jobs`` handles Ctrl-C there, removing the container).
* **Nothing stops the atlas but the user.** A release that cannot be installed or run is recorded with
  its error and phase, and the atlas goes on. On Ctrl-C (or SIGTERM turned into it) the current
  release is dropped unrecorded, preparations in flight finish their step and are cleaned up, and the
  file keeps every line written so far: ``--resume`` continues from there.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.atlas.cells import atlas_cells
from harness.atlas.cpu import CpuMeter
from harness.atlas.prepared import PhaseClock, Prepared, fail_record, tree_files
from harness.atlas.record import LOG_NAME, AtlasLog, cells_part, model_catalog, new_record
from harness.atlas.releases import Release
from harness.atlas.reporting import AtlasReporter
from harness.binaries import cache_dir_of, fetch
from harness.binaries import remove as remove_build
from harness.binaries.extract import NoLinuxBuild
from harness.errors import HARNESS_BUGS, UserError
from harness.images import ensure_version_image
from harness.images.base import image_exists
from harness.images.codex import version_tag
from harness.matrix.schema import MatrixConfig
from harness.progress import NullProgress
from harness.run import RunOptions, options_for, plan_jobs, run_jobs
from harness.suite.expectations import EXPECTATIONS
from harness.suite.protocol import CellSpec

#: Budget for one release's whole contract suite; a healthy release needs well under a minute.
CONTAINER_BUDGET_S = 600.0
#: Lower bound for the matrix's ``hang_s``, which also bounds each cell's bare credential probe (is the
#: key honoured by the build itself?). 0.123–0.125 stall ~10 s at start-up in the network-less
#: containers, so with the default 6 s the probe ends before the request and the build looks as if it
#: ignored every credential. Native builds only: legacy ones keep the matrix value (see run_options).
MIN_HANG_S = 20.0


@dataclass(frozen=True)
class AtlasOptions:
    out_dir: Path
    jobs: int = 2  # builds on disk at once: one running, jobs - 1 prepared ahead
    keep_builds: bool = False
    cache_dir: Path | None = None
    workers: int = 8  # lane runs at once in the container: runs mostly wait (startup stalls, timeouts)
    cells: str = "compact"  # the cell set each release runs (harness.atlas.cells.CELL_SETS)


@dataclass
class AtlasOutcome:
    recorded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    duration_s: float = 0.0


class Atlas:
    """One atlas pass over ``releases``; build with the docker client and config, then ``run()``."""

    def __init__(self, client: Any, config: MatrixConfig, base_tag: str, options: AtlasOptions,
                 reporter: AtlasReporter, packument: dict[str, Any] | None = None) -> None:
        self.client = client
        self.config = config
        self.base_tag = base_tag
        self.options = options
        self.reporter = reporter
        self.packument = packument
        self.cancel = threading.Event()
        self.log = AtlasLog(options.out_dir / LOG_NAME)
        self._cache = cache_dir_of(options.cache_dir)

    # -- phases ------------------------------------------------------------------------------------------

    def prepare(self, release: Release) -> Prepared:
        """Fetch (integrity-checked) and build the image; never raises: failures go into the record."""
        record = new_record(release.version, release.npm_version)
        prepared = Prepared(release, record)
        if release.unavailable:
            fail_record(record, "resolve", UserError(release.unavailable), "not-installable")
            return prepared
        if self.cancel.is_set():
            return prepared
        clock = PhaseClock()
        cpu0 = time.thread_time()
        try:
            return self._prepare(prepared, clock)
        finally:
            record["cpu"]["prepare_s"] = round(time.thread_time() - cpu0, 2)

    def _prepare(self, prepared: Prepared, clock: PhaseClock) -> Prepared:
        release, record = prepared.release, prepared.record
        timings = record["timings"]
        t0 = time.monotonic()
        try:
            had_tree = (self._cache / release.version / "build.json").exists()
            build = fetch(release.version, cache_dir=self.options.cache_dir, progress=clock, packument=self.packument)
            prepared.build, prepared.fetched = build, not had_tree
        except NoLinuxBuild as exc:
            fail_record(record, "fetch", exc, "not-installable")
        except HARNESS_BUGS:
            raise
        except Exception as exc:  # a broken build or a network error: recorded, the atlas goes on
            fail_record(record, "fetch", exc)
        finally:
            timings["download_s"] = round(clock.seconds.get("download", 0.0), 3)
            timings["unpack_s"] = round(clock.seconds.get("unpack", 0.0), 3)
            timings["resolve_s"] = round(max(0.0, time.monotonic() - t0 - timings["download_s"]
                                             - timings["unpack_s"]), 3)
        record["sizes"]["tarball_bytes"] = clock.totals.get("download")
        if prepared.build is None or self.cancel.is_set():
            return prepared
        build = prepared.build
        record["reused"]["build"] = not prepared.fetched
        record["binary_relpath"] = build.binary_relpath
        files = tree_files(build)
        record["tree_files"] = sorted(files)
        record["sizes"]["tree_bytes"] = sum(files.values())
        t0 = time.monotonic()
        try:
            tag = version_tag(build, self.base_tag)
            existed = image_exists(self.client, tag)
            prepared.built = not existed  # set before building: an interrupted build is still ours to remove
            # once the daemon holds the build context, the cached tree is only a third copy (context,
            # layer, tree) at the moment of the atlas's peak disk use: it goes then, unless kept
            drop = prepared.fetched and not self.options.keep_builds
            prepared.image = ensure_version_image(self.client, build, progress=NullProgress(), base_tag=self.base_tag,
                                                  context_sent=(lambda: self._remove_tree(prepared)) if drop else None)
            record["reused"]["image"] = existed
            record["image"] = prepared.image
            with contextlib.suppress(Exception):
                record["sizes"]["image_bytes"] = int(self.client.images.get(prepared.image).attrs.get("Size", 0))
        except HARNESS_BUGS:
            raise
        except Exception as exc:  # the daemon refused the build: recorded, the atlas goes on
            fail_record(record, "image", exc)
        finally:
            timings["image_s"] = round(time.monotonic() - t0, 3)
        if prepared.image is not None and prepared.fetched and not self.options.keep_builds:
            # The image holds the tree now and its file list is in the record: the cached copy only
            # doubles the release's footprint while it waits and runs.
            self._remove_tree(prepared)
        return prepared

    def _remove_tree(self, prepared: Prepared) -> None:
        try:
            remove_build(prepared.release.version, cache_dir=self.options.cache_dir)
        except OSError as exc:
            self.reporter.note(f"{prepared.release.version}: could not remove its cached tree ({exc})")
        prepared.fetched = False

    def run_options(self, cells: Sequence[CellSpec]) -> RunOptions:
        """The matrix's timeouts and provider settings, with two atlas-specific bounds (see the constants).

        Legacy builds keep the matrix's ``hang_s``: it is every legacy run's timeout, and 0.8.0 and
        0.20.0 never exit on their own, so a longer one would only make them wait longer.
        """
        legacy = all(EXPECTATIONS[c.expect].legacy for c in cells)
        hang_s = self.config.timeouts.hang_s if legacy else max(self.config.timeouts.hang_s, MIN_HANG_S)
        timeouts = self.config.timeouts.model_copy(update={
            "container_s": min(self.config.timeouts.container_s, CONTAINER_BUDGET_S), "hang_s": hang_s})
        return options_for(self.config, self.options.out_dir, timeouts=timeouts, jobs=1, keep="never",
                           workers=self.options.workers)

    def run_cells(self, prepared: Prepared) -> bool:
        """Run the release's cells in one container; False when interrupted (nothing to record).

        A suite that did not finish (its container killed from outside, the budget exceeded) is run once
        more: one broken container must not write a release's facts as "gone". If it again leaves every
        cell unfinished, the release is recorded as an error of the ``runs`` phase.
        """
        record = prepared.record
        version = prepared.release.version
        assert prepared.image is not None
        cells = atlas_cells(self.config, version, self.options.cells)
        record["cell_set"] = self.options.cells
        options = self.run_options(cells)
        meter = CpuMeter()
        t0 = time.monotonic()
        try:
            plans = plan_jobs(cells, {version: prepared.image}, options)
            results = run_jobs(plans, options, meter)
            if not results.interrupted and any(c.unfinished for c in results.cells):
                self.reporter.note(f"{version}: the contract suite did not finish "
                                   f"({results.cells[0].unfinished or 'some cells'}); running it once more")
                results = run_jobs(plans, options, meter)
                record["retried"] = True
        except HARNESS_BUGS:
            raise
        except Exception as exc:  # the daemon or the out dir failed: recorded, the atlas goes on
            fail_record(record, "runs", exc)
            return True
        finally:
            record["timings"]["runs_s"] = round(time.monotonic() - t0, 3)
        record["cpu"]["runs_s"] = None if meter.cpu_s is None else round(meter.cpu_s, 2)
        if results.interrupted:
            return False
        record["cells"], record["tests"], record["failures"] = cells_part(results.cells)
        fingerprint = results.builds.get(version)
        if all(c.unfinished for c in results.cells) or not fingerprint:
            first = next((c.message for c in results.cells if c.message), "no cell ran codex")
            fail_record(record, "runs", UserError(f"the contract suite did not finish any cell: {first}"))
            return True
        record["fingerprint"] = {**fingerprint, "model_catalog": model_catalog(results.cells)}
        record["status"] = "ok"
        return True

    def cleanup(self, prepared: Prepared) -> None:
        """Remove what the atlas brought in for this release, and only that (unless --keep-builds).

        ``built``/``fetched`` are true only when the image or tree did not exist right before the atlas
        made it, so the default matrix's builds, the base image and anything another run cached stay.
        """
        if prepared.cleaned:
            return
        prepared.cleaned = True
        version = prepared.release.version
        if self.options.keep_builds:
            return
        t0 = time.monotonic()
        if prepared.built:
            tag = prepared.image or (version_tag(prepared.build, self.base_tag) if prepared.build else None)
            if tag:
                try:
                    if image_exists(self.client, tag):
                        self.client.images.remove(image=tag)
                except Exception as exc:  # in use by someone else's container: leave it, say so
                    self.reporter.note(f"{version}: could not remove image {tag} ({exc}); "
                                       "remove it with `codex-matrix prune --all` later")
        if prepared.fetched:
            self._remove_tree(prepared)
        prepared.record["timings"]["cleanup_s"] = round(time.monotonic() - t0, 3)

    # -- the stream --------------------------------------------------------------------------------------

    def run(self, releases: Sequence[Release], *, resume: bool) -> AtlasOutcome:
        outcome = AtlasOutcome()
        t_start = time.monotonic()
        done = self.log.recorded(self.options.cells) if resume else set()
        todo = [r for r in releases if r.version not in done]
        outcome.skipped = [r.version for r in releases if r.version in done]
        jobs = max(1, self.options.jobs)
        pool = ThreadPoolExecutor(max_workers=max(1, jobs - 1), thread_name_prefix="atlas-prepare")
        ahead: deque[tuple[Release, Future[Prepared]]] = deque()
        queue = deque(todo)
        current: Prepared | None = None
        try:
            position = 0
            while queue or ahead:
                while queue and len(ahead) < jobs:
                    release = queue.popleft()
                    ahead.append((release, pool.submit(self.prepare, release)))
                release, future = ahead.popleft()
                position += 1
                self.reporter.release_started(release, position, len(todo))
                current = future.result()
                if not current.failed and current.image is not None and not self.run_cells(current):
                    raise KeyboardInterrupt
                self.cleanup(current)
                record = current.record
                record["timings"]["total_s"] = round(sum(
                    v for k, v in record["timings"].items() if k != "total_s"), 3)
                record["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
                self.log.append(record)
                outcome.recorded.append(release.version)
                self.reporter.release_recorded(record, position, len(todo))
                current = None
        except KeyboardInterrupt:
            outcome.interrupted = True
            self.cancel.set()
        finally:
            self._drain(pool, ahead, current)
            outcome.duration_s = time.monotonic() - t_start
        return outcome

    def _drain(self, pool: ThreadPoolExecutor, ahead: deque[tuple[Release, Future[Prepared]]],
               current: Prepared | None) -> None:
        """After the stream ended or was interrupted: let preparations finish their step, then clean up."""
        self.cancel.set()
        for _, future in ahead:
            future.cancel()
        pool.shutdown(wait=True)
        leftovers = [current] if current is not None else []
        for _, future in ahead:
            if future.done() and not future.cancelled() and future.exception() is None:
                leftovers.append(future.result())
        for prepared in leftovers:
            self.cleanup(prepared)
