"""Foreign lanes in real containers (issue 23): OpenAI's TypeScript SDK from npm, real codex builds, the fake
API. Small selections, so they stay fast: one build that works with both SDK modes, one pair on the base-URL
cliff whose measured failure is the expectation, and the compat grid over an unsupported and a working build."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import labels
from tests.integration.test_regress import cli


def _results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def _none_left(run_containers: Callable[..., list[Any]], run_id: str) -> None:
    left = [c.name for c in run_containers() if (c.labels or {}).get(labels.RUN) == run_id]
    assert not left, f"containers outlived their run: {left}"


def test_the_sdk_lanes_meet_their_expectations_and_python_tests_are_not_applicable(
        tmp_path: Path, run_containers: Callable[..., list[Any]]) -> None:
    out = tmp_path / "out"
    done = cli("run", "--lanes", "codex-sdk@0.163.0,codex-sdk@0.114.0:documented", "--versions", "0.120.0",
               "--scenarios", "ok,unauthorized", "--out", str(out), "--keep", "never")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = _results(out)
    cells = {c["lane"]: c for c in results["cells"]}
    assert set(cells) == {"codex-sdk@0.163.0:documented", "codex-sdk@0.163.0:provider", "codex-sdk@0.114.0:documented"}
    assert cells["codex-sdk@0.114.0:documented"]["expected"] == "lane-base-url-cliff"
    for lane, cell in cells.items():
        assert cell["id"].endswith("+" + lane.replace("@", "-").replace(":", "-")), cell["id"]
        assert cell["status"] == "pass", (lane, [(t["name"], t["outcome"], t["message"]) for t in cell["tests"]
                                                 if t["outcome"] not in ("pass", "n/a")])
        outcomes = {t["outcome"] for t in cell["tests"]}
        assert "n/a" in outcomes and "pass" in outcomes  # projection tests do not apply to the SDK, never passed
        na = next(t for t in cell["tests"] if t["outcome"] == "n/a")
        assert "needs projection" in na["message"] and lane in na["message"]
    ok = json.loads(next((out / "raw").glob("*/cells/*+codex-sdk-0.163.0-provider/ok/lane-result.json")).read_text())
    assert ok["outcome"] == "ok" and ok["final_text"] == "OK" and ok["lane"] == "codex-sdk@0.163.0"
    cliff = json.loads(next((out / "raw").glob("*/cells/*+codex-sdk-0.114.0-documented/ok/lane-result.json"))
                       .read_text())
    assert cliff["outcome"] in ("exit-nonzero", "hang") and cliff["extra"]["sdk"]["base_url_via"] == \
        "env OPENAI_BASE_URL"
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'type="n/a"' in junit  # a skipped testcase, never a passed one
    _none_left(run_containers, results["run_id"])


def test_compat_prints_the_grid_with_outcome_classes(tmp_path: Path,
                                                     run_containers: Callable[..., list[Any]]) -> None:
    out = tmp_path / "compat"
    done = cli("compat", "--lane", "codex-sdk", "--sdk-versions", "0.114.0,0.163.0", "--versions", "0.20.0,0.116.0",
               "--modes", "provider", "--out", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {line.split()[0]: [c.strip() for c in line.strip().split("  ")[1:] if c.strip()]
            for line in done.stdout.splitlines() if line.startswith(("  0.114.0", "  0.163.0"))}
    # columns 0.20.0 and 0.116.0: the flag is rejected (U, as matrix.yaml expects) / the turn is answered
    assert rows["0.114.0"][1] == rows["0.163.0"][1] == "ok", done.stdout
    assert all(r[0] in ("EXIT U", "CRASH U") for r in rows.values()), done.stdout
    assert "unexpected argument" in done.stdout or "EPIPE" in done.stdout  # the first failing test says why
    assert "4 pairs" in done.stdout
    _none_left(run_containers, _results(out)["run_id"])


def test_a_users_own_lane_runs_through_the_protocol_and_fails_readably(
        tmp_path: Path, run_containers: Callable[..., list[Any]]) -> None:
    """The README's 30-line Node lane meets the lane contract on a real build; a shell lane with a typo in
    its result is a crash whose message names the key, in the same words as any lane's."""
    typo = tmp_path / "typo-lane.sh"
    typo.write_text("#!/bin/sh\ncat >/dev/null\n"
                    "echo '{\"protocol\": 1, \"lane\": \"typo@1\", \"outcome\": \"ok\", \"events\": [], "
                    "\"final_txt\": \"OK\"}'\n")
    out = tmp_path / "out"
    done = cli("run", "--lanes", f"script:docs/examples/minimal-lane.mjs,script:{typo}", "--versions", "0.171.0",
               "--scenarios", "ok,unauthorized", "--out", str(out), "--keep", "never")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # the typo lane's cell misses
    results = _results(out)
    cells = {Path(c["lane"].removeprefix("script:")).name: c for c in results["cells"]}
    minimal, broken = cells["minimal-lane.mjs"], cells["typo-lane.sh"]
    assert minimal["status"] == "pass", [(t["name"], t["message"]) for t in minimal["tests"] if t["outcome"] == "fail"]
    assert minimal["id"].startswith("codex0.171.0-codex-api-key-persistent+script-minimal-lane-")
    assert broken["status"] == "fail"
    crash = next(t for t in broken["tests"] if t["name"] == "test_the_lane_did_not_break[ok]")
    assert crash["outcome"] == "fail" and "unknown key 'final_txt'" in crash["message"], crash
    _none_left(run_containers, results["run_id"])


def test_repro_of_a_lane_cell_runs_the_lane_in_its_own_image_and_bundles_its_result(tmp_path: Path) -> None:
    """``repro`` once ran a lane cell in the plain codex image: ``node`` missing, the adapter never started,
    and the cell failed for the harness's reason. It now prepares the Node image and the SDK as ``run``
    does; the bundle carries the adapter's protocol result, and ``--shell`` (the python lane's command)
    refuses a lane cell in one line."""
    cell = "codex0.117.0-codex-api-key-persistent+codex-sdk-0.163.0-provider"
    made = cli("repro", cell, "--scenario", "ok", cwd=tmp_path)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    assert "lane-node:0.117.0" in made.stdout and ": pass (expected native)" in made.stdout, made.stdout
    bundle = json.loads((tmp_path / f"{cell}.repro.json").read_text(encoding="utf-8"))
    assert bundle["outcome"]["status"] == "pass"
    result = bundle["scenarios"]["ok"]["lane_result"]
    assert result["outcome"] == "ok" and result["final_text"] == "OK" and result["lane"] == "codex-sdk@0.163.0"
    shell = cli("repro", cell, "--shell", cwd=tmp_path)
    assert shell.returncode == 2 and "runs its own adapter: drop --shell" in shell.stderr, shell.stderr
