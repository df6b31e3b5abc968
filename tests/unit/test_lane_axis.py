"""The lane axis (issue 23): matrix.yaml ``lanes``, ``--lanes``, lane cell ids, lane-keyed expectations, and
the contract suite's capability rule (a test a lane cannot be judged by is collected as not applicable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.lanes.catalog import expand_lanes, lane_of_slug, parse_lane
from harness.matrix import Selection, load_matrix, select
from harness.matrix.schema import MatrixConfig
from harness.results import cell_status
from harness.suite.protocol import LOG_FILE, CellSpec, SuiteSpec, SuiteTimeouts, TestRecord, cell_id, read_log

REPO = Path(__file__).resolve().parents[2]
DONE_WHEN = "0.42.0,0.99.0,0.114.0,0.116.0,0.120.0,0.171.0"


def test_the_default_matrix_is_the_python_lane_alone() -> None:
    config = load_matrix(REPO / "matrix.yaml")
    cells = select(config, Selection())
    assert config.lanes == ["python"]
    assert {c.lane for c in cells} == {"python"} and len(cells) == 96
    assert all("+" not in c.id for c in cells)  # the ids from before the lane axis
    assert cells[0].id == "codex0.20.0-codex-api-key-ephemeral"


def test_a_foreign_lane_adds_a_lane_part_and_keeps_python_ids() -> None:
    assert cell_id("0.171.0", "codex-api-key", "persistent") == "codex0.171.0-codex-api-key-persistent"
    assert cell_id("0.171.0", "codex-api-key", "persistent", lane="codex-sdk@0.163.0:provider") == \
        "codex0.171.0-codex-api-key-persistent+codex-sdk-0.163.0-provider"
    for name in ("codex-sdk@0.163.0:documented", "codex-sdk@0.148.0-alpha.8:provider", "python"):
        lane = parse_lane(name)
        assert lane_of_slug(lane.slug) == lane


def test_an_sdk_named_without_a_mode_means_both() -> None:
    assert [lane.full for lane in expand_lanes("codex-sdk@0.114.0")] == \
        ["codex-sdk@0.114.0:documented", "codex-sdk@0.114.0:provider"]
    assert [lane.full for lane in expand_lanes("codex-sdk@0.114.0:provider")] == ["codex-sdk@0.114.0:provider"]


def test_the_done_when_selection_and_its_measured_expectations() -> None:
    config = load_matrix(REPO / "matrix.yaml")
    cells = select(config, Selection(lanes="codex-sdk@0.163.0,codex-sdk@0.114.0", versions=DONE_WHEN))
    assert len(cells) == 24 and all(c.foreign and c.credential == "codex-api-key" for c in cells)
    assert all(c.scenarios == ("ok", "tool", "unauthorized", "server-error") for c in cells)
    expect = {(c.version, parse_lane(c.lane).version, parse_lane(c.lane).mode): c.expect for c in cells}
    assert expect[("0.42.0", "0.163.0", "provider")] == "lane-silent-empty"
    assert expect[("0.42.0", "0.114.0", "documented")] == "lane-silent-empty"  # 0.42 honours OPENAI_BASE_URL
    assert expect[("0.42.0", "0.163.0", "documented")] == "lane-base-url-cliff"  # and not openai_base_url
    assert expect[("0.99.0", "0.163.0", "documented")] == "lane-base-url-cliff"  # new SDK, old CLI
    assert expect[("0.114.0", "0.163.0", "documented")] == "lane-base-url-cliff"
    assert expect[("0.116.0", "0.163.0", "documented")] == "native"
    assert expect[("0.120.0", "0.114.0", "documented")] == "lane-base-url-cliff"  # old SDK, new CLI
    assert expect[("0.171.0", "0.114.0", "documented")] == "lane-base-url-cliff"
    assert expect[("0.116.0", "0.114.0", "documented")] == "native"
    assert all(e == "native" for (v, _, m), e in expect.items() if m == "provider" and v != "0.42.0")


def test_cells_ids_round_trip_through_cells_flag() -> None:
    config = load_matrix(REPO / "matrix.yaml")
    wanted = "codex0.171.0-codex-api-key-persistent+codex-sdk-0.114.0-provider"
    [cell] = select(config, Selection(cells=wanted))
    assert cell.lane == "codex-sdk@0.114.0:provider" and cell.id == wanted
    assert CellSpec.from_json(json.loads(json.dumps(cell.to_json()))) == cell


def test_lane_rules_never_reach_the_python_lane_and_vice_versa(tmp_path: Path) -> None:
    text = """
versions: [0.20.0, 0.171.0]
lanes: [python, codex-sdk@0.114.0:provider]
expectations:
  - when: {versions: "<0.44"}
    expect: legacy-fallback
    reason: python's rule
  - when: {lanes: [codex-sdk], lane_versions: "<0.116", versions: "<0.41"}
    expect: lane-unsupported
    reason: the SDK's rule
"""
    config = parse_matrix(text, "m.yaml")
    cells = {(c.version, c.lane): c.expect for c in select(config, Selection(credentials="codex-api-key",
                                                                            policies="persistent"))}
    assert cells == {("0.20.0", "python"): "legacy-fallback", ("0.171.0", "python"): "native",
                     ("0.20.0", "codex-sdk@0.114.0:provider"): "lane-unsupported",
                     ("0.171.0", "codex-sdk@0.114.0:provider"): "native"}


@pytest.mark.parametrize(("text", "message"), [
    ("versions: [0.171.0]\nlanes: [codex-sdk]\n", "name the SDK version"),
    ("versions: [0.171.0]\nlanes: []\n", "non-empty list"),
    ("versions: [0.171.0]\nexpectations:\n  - when: {lanes: [rust]}\n    expect: native\n    reason: x\n",
     "unknown lane 'rust'"),
    ("versions: [0.171.0]\nexpectations:\n  - when: {lane_versions: 'new'}\n    expect: native\n    reason: x\n",
     "not a PEP 440 version range"),
    ("versions: [0.171.0]\nexpectations:\n  - when: {modes: [loud]}\n    expect: native\n    reason: x\n",
     "unknown lane mode 'loud'"),
])
def test_bad_lane_config_is_one_line_with_the_fix(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_matrix(text, "m.yaml")


def test_bad_lanes_flag_is_a_usage_error() -> None:
    config = load_matrix(REPO / "matrix.yaml")
    with pytest.raises(UserError, match="--lanes: 'codex-sdk@latest' names no lane"):
        select(config, Selection(lanes="codex-sdk@latest"))
    with pytest.raises(UserError, match="names no lane after"):
        select(config, Selection(cells="codex0.171.0-codex-api-key-persistent+rust-1"))


def test_not_applicable_is_neither_pass_nor_failure() -> None:
    na = TestRecord("c", "test_x[ok]", "ok", "n/a", "not applicable: needs projection")
    passed = TestRecord("c", "test_y[ok]", "ok", "pass")
    assert cell_status([na, passed]) == "pass"
    assert cell_status([na]) == "skip"
    assert cell_status([na, TestRecord("c", "test_z[ok]", "ok", "fail", "boom")]) == "fail"


def parse_matrix(text: str, name: str) -> MatrixConfig:
    """matrix.yaml ``text`` through the real loader (a file, as users give it)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_text(text, encoding="utf-8")
        return load_matrix(path)


def _collect(tmp_path: Path, cells: list[CellSpec]) -> tuple[dict[str, int], str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = SuiteSpec(tuple(cells), SuiteTimeouts(45.0, 10.0))
    spec.write(tmp_path)
    env = {**os.environ, "CNM_SPEC": str(tmp_path / "cells.json"), "CNM_OUT": str(tmp_path / "out")}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "tests" / "contract"), "--collect-only", "-q",
                           "-p", "no:cacheprovider", f"--rootdir={REPO / 'tests' / 'contract'}"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [plan] = [line for line in read_log(tmp_path / "out" / LOG_FILE) if hasattr(line, "planned")]
    return dict(plan.planned), proc.stdout  # type: ignore[attr-defined]


def test_the_suite_gives_each_lane_the_tests_its_capabilities_allow(tmp_path: Path) -> None:
    python = CellSpec("0.171.0", "codex-api-key", "persistent", ("ok",))
    sdk = CellSpec("0.171.0", "codex-api-key", "persistent", ("ok",), lane="codex-sdk@0.163.0:provider")
    alone, _ = _collect(tmp_path / "a", [python])
    both, listing = _collect(tmp_path / "b", [python, sdk])
    assert both[python.id] == alone[python.id]  # the python lane's tests are exactly as before
    sdk_items = [ln for ln in listing.splitlines() if sdk.id in ln]
    python_items = [ln for ln in listing.splitlines() if python.id in ln and sdk.id not in ln]
    assert any("test_lane_seam.py" in ln for ln in sdk_items)
    assert not any("test_lane_seam.py" in ln for ln in python_items)  # judged in process, by its own tests
    assert any("test_projection.py" in ln for ln in sdk_items)  # collected, then reported as n/a
    assert both[sdk.id] == len(sdk_items)


def test_a_script_lane_is_a_users_program(tmp_path: Path) -> None:
    program = tmp_path / "my lane.mjs"
    program.write_text("// a lane\n")
    lane = parse_lane(f"script:{program}")
    assert lane.kind == "script" and lane.capabilities == frozenset({"seam"}) and parse_lane(lane.full) == lane
    assert lane.slug.startswith("script-my-lane-") and "+" + lane.slug == cell_id("0.171.0", "codex-api-key",
                                                                                  "persistent", lane=lane.full
                                                                                  ).partition("persistent")[2]
    with pytest.raises(Exception, match=r"ending in \.mjs"):
        parse_lane("script:lane.rb")
    config = load_matrix(REPO / "matrix.yaml")
    [cell] = select(config, Selection(lanes=f"script:{program}", versions="0.171.0", scenarios="ok"))
    assert cell.lane == lane.full and cell.expect == "native"


def test_a_missing_script_is_one_line_before_any_image_work(tmp_path: Path) -> None:
    from harness.run.lanes import script_mounts

    cell = CellSpec("0.171.0", "codex-api-key", "persistent", ("ok",), lane=f"script:{tmp_path / 'gone.sh'}")
    with pytest.raises(UserError, match="no such file"):
        script_mounts([cell])


def test_runs_that_wait_on_the_network_never_hold_a_compute_worker() -> None:
    from harness.suite.waits import ends_by_timeout as mostly_waits

    def cell(lane: str, expect: str = "native") -> CellSpec:
        return CellSpec("0.171.0", "codex-api-key", "persistent", ("ok",), expect=expect, lane=lane)

    assert mostly_waits(cell("codex-sdk@0.163.0:documented"), "ok")  # WebSocket attempts, codex's retries
    assert mostly_waits(cell("codex-sdk@0.114.0:provider", "lane-base-url-cliff"), "ok")
    assert not mostly_waits(cell("codex-sdk@0.163.0:provider"), "ok")
    assert not mostly_waits(cell("codex-sdk@0.163.0:provider"), "server-error")
