"""``--shard K/N``: every selected cell in exactly one shard, a build never split, the split deterministic
and balanced by expected time; bad K/N is one line and exit 2."""

from __future__ import annotations

import json
from itertools import combinations

import pytest

from harness.cli.main import main
from harness.errors import UserError
from harness.matrix import Selection, Shard, Timeouts, load_matrix, parse_shard, select, shard_cells
from harness.matrix.shard import CONTAINER_S, LANE_RUN_S, assign, build_costs, lane_cost
from harness.suite.protocol import CellSpec
from harness.suite.waits import ends_by_timeout


def _default() -> list[CellSpec]:
    return select(load_matrix(), Selection())


@pytest.mark.parametrize(("text", "shard"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 3 / 3 ", Shard(3, 3))])
def test_parse_shard(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard and str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize("text", ["", "2", "0/4", "5/4", "1/0", "-1/2", "a/b", "1/2/3", "1.0/2"])
def test_bad_shard_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8, 11])
def test_shards_partition_the_selection_and_keep_builds_together(count: int) -> None:
    cells, timeouts = _default(), Timeouts()
    shards = [shard_cells(cells, Shard(k, count), timeouts) for k in range(1, count + 1)]
    ids = [c.id for s in shards for c in s]
    assert sorted(ids) == sorted(c.id for c in cells) and len(ids) == len(set(ids))
    for a, b in combinations(shards, 2):
        assert not {c.version for c in a} & {c.version for c in b}
    for shard in shards:  # each shard keeps the selection's order, so its report reads like the full one's
        assert [c.id for c in shard] == [c.id for c in cells if c in shard]
    assert shards == [shard_cells(cells, Shard(k, count), timeouts) for k in range(1, count + 1)]


def test_balance_is_greedy_longest_first() -> None:
    cells, timeouts = _default(), Timeouts()
    costs = build_costs(cells, timeouts)
    for count in (2, 3, 4):
        loads = [sum(costs[v] for v in shard) for shard in assign(cells, count, timeouts)]
        # LPT guarantee: the heaviest shard exceeds the ideal by at most the largest single build
        assert max(loads) <= sum(costs.values()) / count + max(costs.values())
    legacy = costs["0.20.0"]  # its errors hang until the hang timeout: the costliest build goes first
    assert legacy == max(costs.values()) and assign(cells, 4, timeouts)[0][0] == "0.20.0"


def test_cost_counts_the_runs_the_suite_schedules_as_waits() -> None:
    """One rule: a run costs its whole hang timeout exactly when the suite schedules it as a wait."""
    cells, timeouts = _default(), Timeouts(hang_s=10)
    for cell in cells:
        for scenario in cell.scenarios:
            waits = ends_by_timeout(cell, scenario)
            assert lane_cost(cell, scenario, timeouts) == (10.0 if waits else LANE_RUN_S)


def test_cost_weighs_waiting_and_legacy_runs_by_their_timeout() -> None:
    timeouts = Timeouts(hang_s=10)
    native = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "hang", "unauthorized"))
    legacy = CellSpec("0.20.0", "codex-api-key", "persistent", ("ok", "hang", "unauthorized"),
                      expect="legacy-fallback")
    costs = build_costs([native, legacy], timeouts)
    assert costs["0.117.0"] == CONTAINER_S + LANE_RUN_S + 10 + LANE_RUN_S
    assert costs["0.20.0"] == CONTAINER_S + LANE_RUN_S + 10 + 10


def test_more_shards_than_builds_leaves_some_empty() -> None:
    cells = select(load_matrix(), Selection(versions="0.117.0,0.169.0"))
    shards = [shard_cells(cells, Shard(k, 4), Timeouts()) for k in range(1, 5)]
    assert sum(1 for s in shards if s) == 2 and sum(len(s) for s in shards) == len(cells)


@pytest.mark.parametrize("value", ["0/2", "3/2", "x", "1/"])
def test_run_with_bad_shard_is_one_line_exit_2(value: str, capsys: pytest.CaptureFixture[str],
                                               tmp_path: object) -> None:
    assert main(["run", "--shard", value, "--out", f"{tmp_path}/out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: --shard") and err.count("\n") == 1


def test_list_github_shards_and_one_shard_s_cells(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--format", "github", "--shards", "3"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert [e["shard"] for e in include] == ["1/3", "2/3", "3/3"] and [e["index"] for e in include] == [1, 2, 3]
    versions = [v for e in include for v in e["versions"].split("+")]
    assert sorted(versions) == sorted(load_matrix().versions) and all("," not in e["versions"] for e in include)
    assert main(["list", "--shard", "2/3", "--format", "tox"]) == 0
    assert capsys.readouterr().out.split() == [f"codex{v}" for v in include[1]["versions"].split("+")]
    # a shard that would be empty gets no job, the others keep their K/N
    assert main(["list", "--format", "github", "--shards", "3", "--versions", "0.117.0"]) == 0
    assert [e["shard"] for e in json.loads(capsys.readouterr().out)["include"]] == ["1/3"]
    assert main(["list", "--shards", "3"]) == 2
    assert "--shards N needs --format github" in capsys.readouterr().err
