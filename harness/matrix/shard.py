"""``--shard K/N``: one deterministic slice of the selected cells, so any CI engine can fan out.

A CI job per shard runs ``codex-matrix run --shard K/N`` with the same selection; every job computes
the same split from the same cells, so no coordinator is needed (GitHub Actions matrix, GitLab
``parallel:``, Buildkite ``parallelism`` all hand out K and N). A build's cells stay together, because a
build costs one image and one container: splitting it would pay both twice. Builds are balanced by
expected cost with greedy longest-first bin packing (each build, costliest first, goes to the least
loaded shard; ties go to the lower shard number), which is within 4/3 of the best split and never
depends on anything but the cells and the timeouts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.errors import UserError
from harness.fakeapi.scenarios import SCENARIOS
from harness.matrix.load import clip
from harness.matrix.schema import Timeouts
from harness.suite.protocol import CellSpec
from harness.suite.waits import ends_by_timeout

#: Expected seconds of one lane run that ends on its own (measured: 0.4–1.2 s per run).
LANE_RUN_S = 1.0
#: Expected seconds to start a build's container and its suite, paid once per build.
CONTAINER_S = 5.0
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → Shard(2, 4); anything else is a one-line UserError naming the fix."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise UserError(f"--shard {clip(text)!r}: write K/N with whole numbers, e.g. --shard 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UserError(f"--shard {clip(text)!r}: K must be between 1 and N (N at least 1), "
                        f"e.g. --shard 1/{max(count, 1)}")
    return Shard(index, count)


def lane_cost(cell: CellSpec, scenario: str, timeouts: Timeouts) -> float:
    """Expected seconds of one (cell, scenario) lane run: a run that only waits for the lane's timeout
    (:func:`harness.suite.waits.ends_by_timeout`, the rule the suite schedules by) lasts all of it."""
    if scenario not in SCENARIOS:
        return LANE_RUN_S
    return float(timeouts.hang_s) if ends_by_timeout(cell, scenario) else LANE_RUN_S


def build_costs(cells: Sequence[CellSpec], timeouts: Timeouts) -> dict[str, float]:
    """version → expected seconds of its container (in cell order)."""
    costs: dict[str, float] = {}
    for cell in cells:
        costs[cell.version] = costs.get(cell.version, CONTAINER_S) + sum(
            lane_cost(cell, s, timeouts) for s in cell.scenarios)
    return costs


def assign(cells: Sequence[CellSpec], count: int, timeouts: Timeouts) -> list[list[str]]:
    """The builds of each of ``count`` shards (index 0 = shard 1), each list in cell order."""
    costs = build_costs(cells, timeouts)
    order = {v: i for i, v in enumerate(costs)}
    loads = [0.0] * count
    shards: list[list[str]] = [[] for _ in range(count)]
    for version in sorted(costs, key=lambda v: (-costs[v], order[v])):
        target = min(range(count), key=lambda i: (loads[i], i))
        loads[target] += costs[version]
        shards[target].append(version)
    return [sorted(s, key=order.__getitem__) for s in shards]


def shard_cells(cells: Sequence[CellSpec], shard: Shard, timeouts: Timeouts) -> list[CellSpec]:
    """The cells of one shard, in selection order; may be empty when there are more shards than builds."""
    mine = set(assign(cells, shard.count, timeouts)[shard.index - 1])
    return [c for c in cells if c.version in mine]


def apply_shard(cells: Sequence[CellSpec], shard: str | None, timeouts: Timeouts) -> list[CellSpec]:
    """The ``--shard`` flag as typed (None: not given, every cell) applied to the selected cells."""
    return list(cells) if shard is None else shard_cells(cells, parse_shard(shard), timeouts)
