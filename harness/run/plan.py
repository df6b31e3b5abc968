"""What a run will do, decided before any container starts: options and one job per container."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.matrix import Timeouts
from harness.matrix.schema import CodexSettings, MatrixConfig
from harness.suite.protocol import CellSpec

Keep = Literal["failing", "always", "never"]
Isolation = Literal["version", "cell"]


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    timeouts: Timeouts
    codex: CodexSettings = field(default_factory=CodexSettings)
    jobs: int = 1
    keep: Keep = "failing"
    isolation: Isolation = "version"
    workers: int | None = None  # compute lane runs at once in a container (None: the suite sizes it)
    k_expr: str | None = None  # pytest -k for the contract tests
    #: (path inside the container, path on the host) that foreign lanes need, mounted read-only (or copied
    #: in for a remote daemon): each SDK version's cached package at /cnm-lanes/codex-sdk/<version>
    lane_mounts: tuple[tuple[str, str], ...] = ()


def options_for(config: MatrixConfig, out_dir: Path, *, timeouts: Timeouts | None = None, jobs: int = 1,
                keep: Keep = "failing", isolation: Isolation = "version", workers: int | None = None,
                k_expr: str | None = None, lane_mounts: tuple[tuple[str, str], ...] = ()) -> RunOptions:
    """The options of every command that runs cells (run, repro, diff, bisect, atlas), from matrix.yaml.

    The one place a command turns a matrix into run options, so what the file says about every run
    (its ``codex:`` provider settings, its timeouts) cannot be dropped by one command: repro, diff and
    bisect once ran with the built-in ``codex:`` defaults whatever the file said. ``timeouts`` replaces
    the file's only where a command has its own (a repro bundle's, the atlas's bounds).
    """
    return RunOptions(out_dir=out_dir, timeouts=config.timeouts if timeouts is None else timeouts,
                      codex=config.codex, jobs=jobs, keep=keep, isolation=isolation, workers=workers,
                      k_expr=k_expr, lane_mounts=lane_mounts)


def default_jobs() -> int:
    """Containers at once unless ``-j`` says otherwise: one more than the cores.

    Each container sizes its lane workers from the cores it shares (harness.suite.schedule), so more
    containers add no CPU load; the extra one lets a build whose runs mostly wait (a legacy build's
    timeouts, 0.44's refused ChatGPT refresh) run beside two that compute. Measured on the default
    matrix, 2 cores, one run each (tests/benchmarks/bench_matrix.py): wall / CPU floor 1.35x with 2
    containers, 1.28x with 3; starting the newest (costliest) builds first instead of in cell order
    gave 1.40x and 1.33x: the long-waiting 0.44.0 then ran last, alone.
    """
    return max(1, os.cpu_count() or 1) + 1


#: Where a build lives in a container, as the per-version image installs it (containers/codex/Dockerfile).
INSTALL_ROOT = "/opt/codex"
#: What the contract suite runs: ``codex`` on its fixed PATH (harness.suite.cellrun.RUN_PATH).
CODEX_LINK = "/usr/local/bin/codex"


@dataclass(frozen=True)
class MountedBuild:
    """A build run from the base image without an image of its own (the atlas's way, see
    :mod:`harness.atlas.runner`): its cached tree is mounted read-only at the path the per-version
    image would have copied it to (copied there for a remote daemon) and linked as ``codex`` when the
    suite starts, so the suite sees the same paths either way and fingerprints do not change."""

    version: str
    root: Path  # the cached tree on this machine
    binary_relpath: str

    @property
    def target(self) -> str:
        return f"{INSTALL_ROOT}/{self.version}"

    @property
    def binary(self) -> str:
        return f"{self.target}/{self.binary_relpath}"


@dataclass(frozen=True)
class JobPlan:
    """One container's worth of cells and where its raw output goes."""

    name: str
    version: str
    image: str
    cells: tuple[CellSpec, ...]
    raw_dir: Path
    mounted: MountedBuild | None = None  # the build comes as a tree into ``image`` (the base), not in it

    @property
    def lane_runs(self) -> int:
        return sum(len(c.scenarios) for c in self.cells)


def plan_jobs(cells: Sequence[CellSpec], images: Mapping[str, str], options: RunOptions,
              mounted: Mapping[str, MountedBuild] | None = None) -> list[JobPlan]:
    """One job per build (or per cell with ``isolation="cell"``), in cell order; a version in
    ``mounted`` runs its tree in ``images[version]`` (the base image)."""
    mounted = mounted or {}
    groups: dict[str, list[CellSpec]] = {}
    for cell in cells:
        key = cell.version if options.isolation == "version" else cell.id
        groups.setdefault(key, []).append(cell)
    return [
        JobPlan(name=f"codex{key}" if options.isolation == "version" else key, version=group[0].version,
                image=images[group[0].version], cells=tuple(group), raw_dir=options.out_dir / "raw" / key,
                mounted=mounted.get(group[0].version))
        for key, group in groups.items()
    ]
