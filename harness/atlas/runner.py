"""The atlas pipeline: releases stream through fetch → install → runs → record → cleanup, oldest first.

Why this shape:

* **Several releases run at once** (``parallel``, default 2). A release's contract suite is a few
  hundred lane runs that start codex, wait for it and check what it left: on 2 cores one container
  keeps ~1.1 cores busy, and a release alone leaves the other idle between its runs. Runs go on
  worker threads, one container per release (``run_jobs`` with the atlas's cancel flag as its stop).
* **Preparation overlaps the runs.** Downloads and unpacking happen on one more thread, one release
  at a time, while others run; a release's cells start as soon as it is ready and a runner is free.
* **Bounded disk.** A release holds its tree from its download until it is recorded (``mount``, see
  :mod:`harness.atlas.prepare`). A new release is only started when the trees in flight plus an
  estimate of the next one (its predecessor's tree and tarball) fit ``disk_budget_mb``, and never
  more than ``jobs`` at once; one always may, however large. A recorded release's raw output is
  packed (:mod:`harness.atlas.rawpack`) unless a cell missed. Anything that was on disk before the
  atlas reached it (a default matrix build, another run's cache) is never removed.
* **Nothing stops the atlas but the user.** A release that cannot be installed or run is recorded with
  its error and phase, and the atlas goes on. On Ctrl-C (or SIGTERM turned into it) the releases in
  flight are dropped unrecorded (their containers killed and removed), a preparation finishes its
  step and is cleaned up, and the file keeps every line written so far: ``--resume`` continues.
  Lines are appended as releases finish, so with ``parallel`` > 1 the file is not in version order;
  the timeline sorts.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.atlas.cells import CELL_SETS, atlas_cells
from harness.atlas.cpu import CpuMeter
from harness.atlas.prepare import Install, Preparer
from harness.atlas.prepared import Prepared, fail_record
from harness.atlas.rawpack import pack
from harness.atlas.record import LOG_NAME, AtlasLog, cells_part, model_catalog
from harness.atlas.releases import Release
from harness.atlas.reporting import AtlasReporter
from harness.errors import HARNESS_BUGS, UserError
from harness.images.base import image_exists
from harness.images.codex import version_tag
from harness.matrix.schema import MatrixConfig
from harness.outdir import LIVE
from harness.run import RunOptions, options_for, plan_jobs, run_jobs
from harness.run.containers import SLOTS_DIR, lay_out_slots
from harness.suite.protocol import CellSpec

#: Budget for one release's whole contract suite; a healthy release needs well under a minute.
CONTAINER_BUDGET_S = 600.0
#: What the next release is assumed to need before its predecessor says: a tree of the newest size.
FIRST_ESTIMATE_BYTES = 500_000_000
#: The next release's estimate: its predecessor's tree, plus the tarball beside it while it unpacks.
UNPACK_FACTOR = 1.4


@dataclass(frozen=True)
class AtlasOptions:
    out_dir: Path
    jobs: int = 3  # releases in flight at most: running, or prepared and waiting for a runner
    keep_builds: bool = False
    cache_dir: Path | None = None
    workers: int | None = None  # None: the machine's compute slots, shared by the releases running at once
    cells: str = CELL_SETS[0]  # the cell set each release runs
    parallel: int = 2  # releases whose containers run at once
    install: Install = "mount"  # how a build reaches its container (harness.atlas.prepare)
    disk_budget_mb: int = 1100  # builds in flight (trees, the next one's estimate): see the module doc
    keep_raw: bool = False  # leave every release's raw output unpacked


@dataclass
class AtlasOutcome:
    recorded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    duration_s: float = 0.0
    peak_in_flight: int = 0


class Atlas:
    """One atlas pass over ``releases``; build with the docker client and config, then ``run()``."""

    def __init__(self, client: Any, config: MatrixConfig, base_tag: str, options: AtlasOptions,
                 reporter: AtlasReporter, packument: dict[str, Any] | None = None) -> None:
        self.client = client
        self.config = config
        self.base_tag = base_tag
        self.options = options
        self.reporter = reporter
        self.cancel = threading.Event()
        self.log = AtlasLog(options.out_dir / LOG_NAME)
        self.preparer = Preparer(client, base_tag, install=options.install, cache_dir=options.cache_dir,
                                 keep_builds=options.keep_builds, cancel=self.cancel,
                                 note=lambda m: self.reporter.note(m), packument=packument)
        self._next_estimate = FIRST_ESTIMATE_BYTES
        self._slots: Path | None = None  # laid out by run(): every release's containers share them

    # -- phases ------------------------------------------------------------------------------------------

    def prepare(self, release: Release) -> Prepared:
        """Fetch (integrity-checked) and install; never raises: failures go into the record."""
        return self.preparer.prepare(release)

    def run_options(self, cells: Sequence[CellSpec]) -> RunOptions:
        """The matrix's timeouts and provider settings, as ``run`` uses them, the container's bounded.

        The atlas once raised ``hang_s`` to 20 s for native builds: 0.123–0.125 stalled ~10 s at start-up
        in the network-less containers, so a shorter bound ended their credential probe before its
        request. They no longer stall since the fake world got the container's hostname and the real auth
        hosts: with the matrix's 10 s, 0.122.0–0.125.0 met all 12 default cells, their slowest ``ok`` run
        2.9 s (2026-12-06, load 24). The 20 s cost every release 12 hang runs 10 s longer each.
        """
        timeouts = self.config.timeouts.model_copy(update={
            "container_s": min(self.config.timeouts.container_s, CONTAINER_BUDGET_S)})
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
        options = self.run_options(cells)
        meter = CpuMeter()
        t0 = time.monotonic()
        try:
            mounted = {version: prepared.mounted} if prepared.mounted is not None else None
            plans = plan_jobs(cells, {version: prepared.image}, options, mounted)
            results = run_jobs(plans, options, meter, stop=self.cancel, slots=self._slots)
            if not results.interrupted and any(c.unfinished for c in results.cells):
                self.reporter.note(f"{version}: the contract suite did not finish "
                                   f"({results.cells[0].unfinished or 'some cells'}); running it once more")
                results = run_jobs(plans, options, meter, stop=self.cancel, slots=self._slots)
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
            self.preparer.remove_tree(prepared)
        prepared.record["timings"]["cleanup_s"] = round(time.monotonic() - t0, 3)

    def record(self, prepared: Prepared, outcome: AtlasOutcome, position: int, total: int) -> None:
        """Clean up, pack the raw output (all cells met), append the release's line, tell the user.

        Packed before the line is written: an interrupt between the two leaves the release unrecorded
        (``--resume`` runs it again and packs anew), never recorded with its raw output half packed."""
        self.cleanup(prepared)
        record = prepared.record
        record["timings"]["total_s"] = round(sum(v for k, v in record["timings"].items() if k != "total_s"), 3)
        record["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        record["cell_set"] = self.options.cells  # here, not in run_cells: also a release that never ran
        met = record["status"] == "ok" and all(c["status"] in ("pass", "xfail", "skip")
                                               for c in record["cells"].values())
        if met and not self.options.keep_raw:
            try:
                pack(self.options.out_dir / "raw" / prepared.release.version)
            except OSError as exc:
                self.reporter.note(f"{prepared.release.version}: could not pack its raw output ({exc})")
        self.log.append(record)
        outcome.recorded.append(prepared.release.version)
        self.reporter.release_recorded(record, position, total)

    # -- the stream --------------------------------------------------------------------------------------

    def _room(self, preparing: deque[Future[Prepared]], running: dict[Future[bool], tuple[Prepared, int]]) -> bool:
        """May one more release start its preparation? (see "Bounded disk" in the module doc)"""
        in_flight = len(preparing) + len(running)
        if in_flight == 0:
            return True
        if in_flight >= max(1, self.options.jobs, self.options.parallel):
            return False
        held = sum(p.disk_bytes for p, _ in running.values())
        held += sum(f.result().disk_bytes if f.done() and f.exception() is None else self._next_estimate
                    for f in preparing)
        return held + self._next_estimate <= self.options.disk_budget_mb * 1_000_000

    def _prepared(self, release: Release) -> Prepared:
        prepared = self.prepare(release)
        tree = prepared.record["sizes"]["tree_bytes"]
        if tree:
            self._next_estimate = int(tree * UNPACK_FACTOR)
        return prepared

    def run(self, releases: Sequence[Release], *, resume: bool) -> AtlasOutcome:
        outcome = AtlasOutcome()
        t_start = time.monotonic()
        done = self.log.recorded(self.options.cells) if resume else set()
        todo = [r for r in releases if r.version not in done]
        outcome.skipped = [r.version for r in releases if r.version in done]
        parallel = max(1, self.options.parallel)
        # one compute budget for the machine, whichever releases' containers hold it (harness.suite.schedule)
        slots_root = self.options.out_dir / LIVE / f"atlas-{uuid.uuid4().hex[:8]}"
        self._slots = lay_out_slots(self.run_options([]), slots_root / SLOTS_DIR) if todo else None
        prepare_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atlas-prepare")
        run_pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="atlas-run")
        queue = deque(todo)
        preparing: deque[Future[Prepared]] = deque()
        running: dict[Future[bool], tuple[Prepared, int]] = {}
        position = 0
        try:
            while queue or preparing or running:
                while queue and self._room(preparing, running):
                    preparing.append(prepare_pool.submit(self._prepared, queue.popleft()))
                outcome.peak_in_flight = max(outcome.peak_in_flight, len(preparing) + len(running))
                while preparing and preparing[0].done() and len(running) < parallel:
                    prepared = preparing[0].result()
                    position += 1
                    self.reporter.release_started(prepared.release, position, len(todo))
                    preparing.popleft()  # only now: until here an interrupt leaves it to _drain's cleanup
                    if prepared.failed or prepared.image is None:
                        self.record(prepared, outcome, position, len(todo))
                    else:
                        running[run_pool.submit(self.run_cells, prepared)] = (prepared, position)
                waiting: list[Future[Any]] = [*running, *[f for f in list(preparing)[:1] if not f.done()]]
                if waiting:
                    wait(waiting, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in [f for f in running if f.done()]:
                    prepared, at = running.pop(future)
                    if not future.result():  # interrupted: the user asked, in another thread's view
                        running[future] = (prepared, at)
                        raise KeyboardInterrupt
                    self.record(prepared, outcome, at, len(todo))
        except KeyboardInterrupt:
            outcome.interrupted = True
            self.cancel.set()
        finally:
            for prepared, at in self._drain(prepare_pool, run_pool, preparing, running):
                self.record(prepared, outcome, at, len(todo))
            shutil.rmtree(slots_root, ignore_errors=True)
            with contextlib.suppress(OSError):
                slots_root.parent.rmdir()  # .live, when no container kept for inspection still uses it
            outcome.duration_s = time.monotonic() - t_start
        return outcome

    def _drain(self, prepare_pool: ThreadPoolExecutor, run_pool: ThreadPoolExecutor,
               preparing: deque[Future[Prepared]],
               running: dict[Future[bool], tuple[Prepared, int]]) -> list[tuple[Prepared, int]]:
        """After the stream ended or was interrupted: stop the runs (their containers go), let a
        preparation finish its step, then remove what every unrecorded release brought in. Returns the
        releases whose runs had finished whole all the same: they are recorded, not redone."""
        self.cancel.set()
        for future in preparing:
            future.cancel()
        run_pool.shutdown(wait=True)
        prepare_pool.shutdown(wait=True)
        finished = [entry for f, entry in running.items() if f.exception() is None and f.result()]
        leftovers = [prepared for f, (prepared, _) in running.items() if not (f.exception() is None and f.result())]
        for future in preparing:
            if future.done() and not future.cancelled() and future.exception() is None:
                leftovers.append(future.result())
        for prepared in leftovers:
            self.cleanup(prepared)
        return finished
