"""The atlas's stream without Docker: releases run side by side, disk in flight stays under the budget, an
interrupt records what finished whole and nothing else, and ``--resume`` then redoes nothing recorded.

The preparation and ``run_jobs`` are stand-ins that take real time on real threads (the stream's
scheduling is what is under test); the real thing end to end is tests/integration/test_atlas.py.
"""

from __future__ import annotations

import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.atlas import runner
from harness.atlas.cells import atlas_cells
from harness.atlas.prepare import Prepared
from harness.atlas.rawpack import pack
from harness.atlas.record import new_record
from harness.atlas.releases import Release
from harness.fingerprint import build_fingerprints
from harness.matrix import load_matrix
from harness.results import CellResult, RunResults, now
from harness.suite.protocol import TestRecord

RELEASES = [Release(f"0.{n}.0", f"0.{n}.0-linux-x64") for n in range(131, 137)]


class World:
    """Stand-ins for the preparation and the container runs, counting what overlaps."""

    def __init__(self, tree_bytes: int = 100_000_000, run_s: float = 0.15, block: set[str] | None = None) -> None:
        self.tree_bytes, self.run_s, self.block = tree_bytes, run_s, block or set()
        self.lock = threading.Lock()
        self.running = self.peak_running = 0
        self.on_disk: set[str] = set()
        self.peak_disk = 0
        self.removed: list[str] = []
        self.ran: list[str] = []
        self.slots: list[Path | None] = []

    def prepare(self, release: Release) -> Prepared:
        record = new_record(release.version, release.npm_version)
        record["sizes"]["tree_bytes"] = self.tree_bytes
        with self.lock:
            self.on_disk.add(release.version)
            self.peak_disk = max(self.peak_disk, len(self.on_disk) * self.tree_bytes)
        time.sleep(0.02)
        return Prepared(release, record, image="base:tag", fetched=True)

    def remove_tree(self, prepared: Prepared) -> None:
        with self.lock:
            self.on_disk.discard(prepared.release.version)
            self.removed.append(prepared.release.version)
        prepared.fetched = False

    def run_jobs(self, plans: list[Any], options: Any, reporter: Any,
                 stop: threading.Event | None = None, slots: Path | None = None) -> RunResults:
        version = plans[0].version
        with self.lock:
            self.slots.append(slots)
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)
            self.ran.append(version)
        try:
            deadline = time.monotonic() + (60 if version in self.block else self.run_s)
            while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
                time.sleep(0.01)
            interrupted = stop is not None and stop.is_set() and version in self.block
        finally:
            with self.lock:
                self.running -= 1
        cells = [CellResult(cell=c, status="pass", fingerprint={"version_line": f"codex-cli {version}",
                                                                   "protocol": "thread-events", "flags": []},
                            tests=[TestRecord(c.id, "test_event_grammar[ok]", "ok", "pass")])
                 for c in atlas_cells(load_matrix(), version, "compact")]
        return RunResults(started=now(), duration_s=0.1, cells=cells, builds=build_fingerprints(cells),
                          interrupted=interrupted)


class Quiet:
    def __init__(self, interrupt_at: int | None = None) -> None:
        self.interrupt_at = interrupt_at
        self.recorded: list[str] = []

    def release_started(self, release: Release, position: int, total: int) -> None:
        if position == self.interrupt_at:
            raise KeyboardInterrupt  # what Ctrl-C does to the main thread

    def release_recorded(self, record: dict[str, Any], position: int, total: int) -> None:
        self.recorded.append(record["version"])

    def note(self, message: str) -> None: ...


def _atlas(tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch, reporter: Quiet | None = None,
           **options: Any) -> runner.Atlas:
    monkeypatch.setattr(runner, "run_jobs", world.run_jobs)
    atlas = runner.Atlas(None, load_matrix(), "base:tag", runner.AtlasOptions(out_dir=tmp_path, **options),
                         reporter or Quiet())
    monkeypatch.setattr(atlas.preparer, "prepare", world.prepare)
    monkeypatch.setattr(atlas.preparer, "remove_tree", world.remove_tree)
    return atlas


def test_two_releases_run_at_once_and_every_one_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    atlas = _atlas(tmp_path, world, monkeypatch, parallel=2)
    outcome = atlas.run(RELEASES, resume=False)
    assert not outcome.interrupted
    assert sorted(outcome.recorded) == sorted(r.version for r in RELEASES)
    assert world.peak_running == 2
    assert sorted(world.removed) == sorted(outcome.recorded) and not world.on_disk  # every tree went again
    assert {r["version"] for r in atlas.log.read()} == set(outcome.recorded)
    assert all(r["status"] == "ok" for r in atlas.log.read())
    # one compute budget for the machine: every release's container got the same slot files, gone at the end
    (slots,) = set(world.slots)
    assert slots is not None and slots.name == ".slots" and not slots.exists()
    assert not (tmp_path / ".live").exists()


def test_one_at_a_time_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(run_s=0.05)
    outcome = _atlas(tmp_path, world, monkeypatch, parallel=1, jobs=2).run(RELEASES[:3], resume=False)
    assert world.peak_running == 1 and outcome.peak_in_flight <= 2 and len(outcome.recorded) == 3


@pytest.mark.parametrize(("tree_mb", "budget_mb", "most"), [
    (100, 1100, 3),  # small trees: as many as -j allows
    (450, 1100, 2),  # the newest releases' size: two in flight (450 + 1.4 x 450 = 1,080 MB)
    (600, 1100, 1),  # one alone (600 + 840 > 1,100) ...
    (2000, 1100, 1),  # ... and a release larger than the budget still runs, alone
])
def test_builds_in_flight_stay_under_the_disk_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    tree_mb: int, budget_mb: int, most: int) -> None:
    world = World(tree_bytes=tree_mb * 1_000_000, run_s=0.05)
    atlas = _atlas(tmp_path, world, monkeypatch, parallel=2, jobs=3, disk_budget_mb=budget_mb)
    atlas._next_estimate = int(tree_mb * 1_000_000 * runner.UNPACK_FACTOR)  # as if a predecessor was seen
    outcome = atlas.run(RELEASES, resume=False)
    assert len(outcome.recorded) == len(RELEASES)
    assert outcome.peak_in_flight == most
    assert world.peak_disk <= max(budget_mb * 1_000_000, tree_mb * 1_000_000)


def test_an_interrupt_records_what_finished_and_resume_redoes_nothing_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while 0.132.0 runs: 0.131.0 (finished) is recorded, 0.132.0 is dropped and its tree removed;
    ``--resume`` then runs exactly the releases not recorded, and the recorded line stays as it was."""
    world = World(run_s=0.05, block={"0.132.0"})
    first = _atlas(tmp_path, world, monkeypatch, Quiet(interrupt_at=3), parallel=2, jobs=3)
    outcome = first.run(RELEASES, resume=False)
    assert outcome.interrupted
    recorded = first.log.read()
    assert [r["version"] for r in recorded] == ["0.131.0"] == outcome.recorded
    assert not world.on_disk  # the interrupted release's tree and the prepared one's are gone
    before = first.log.path.read_text()

    again = World(run_s=0.02)
    second = _atlas(tmp_path, again, monkeypatch, parallel=2, jobs=3)
    resumed = second.run(RELEASES, resume=True)
    assert resumed.skipped == ["0.131.0"] and "0.131.0" not in again.ran
    assert sorted(again.ran) == sorted(r.version for r in RELEASES[1:])
    assert second.log.path.read_text().startswith(before)
    assert sorted(r["version"] for r in second.log.read()) == sorted(r.version for r in RELEASES)


def test_raw_output_is_packed_only_when_every_cell_met(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(run_s=0.01)
    atlas = _atlas(tmp_path, world, monkeypatch, parallel=1)
    for version in ("0.131.0", "0.132.0"):
        (tmp_path / "raw" / version / "cells").mkdir(parents=True)
        (tmp_path / "raw" / version / "cells" / "facts.json").write_text('{"wall_s": 1}')
    original = world.run_jobs

    def one_fails(plans: list[Any], options: Any, reporter: Any, stop: threading.Event | None = None,
                  slots: Path | None = None) -> RunResults:
        results = original(plans, options, reporter, stop, slots)
        if plans[0].version == "0.132.0":
            results.cells[0].status = "fail"
        return results

    monkeypatch.setattr(runner, "run_jobs", one_fails)
    atlas.run(RELEASES[:2], resume=False)
    assert not (tmp_path / "raw" / "0.131.0").exists()
    with tarfile.open(tmp_path / "raw" / "0.131.0.tar.gz") as tar:
        assert tar.extractfile("0.131.0/cells/facts.json").read() == b'{"wall_s": 1}'  # type: ignore[union-attr]
    assert (tmp_path / "raw" / "0.132.0" / "cells" / "facts.json").exists()  # the evidence of a miss stays
    assert not (tmp_path / "raw" / "0.132.0.tar.gz").exists()
    assert pack(tmp_path / "raw" / "0.199.0") is None  # nothing to pack


def test_a_release_that_never_ran_is_recorded_under_the_cell_set_and_resume_skips_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A not-installable release once kept the new record's ``compact`` label under ``--cells default``,
    so every ``--resume`` of the whole-contract atlas tried it again."""
    world = World()
    fetch_ok = world.prepare

    def prepare(release: Release) -> Prepared:
        if release.version != "0.132.0":
            return fetch_ok(release)
        record = new_record(release.version, release.npm_version)
        record["status"] = "not-installable"
        return Prepared(release, record, image=None, fetched=False)

    world.prepare = prepare  # type: ignore[method-assign]
    atlas = _atlas(tmp_path, world, monkeypatch)
    atlas.run(RELEASES, resume=False)
    assert {r["version"]: r["cell_set"] for r in atlas.log.read()} == {r.version: "default" for r in RELEASES}
    assert atlas.log.recorded("default") == {r.version for r in RELEASES}
    again = _atlas(tmp_path, World(), monkeypatch)
    assert again.run(RELEASES, resume=True).recorded == []
