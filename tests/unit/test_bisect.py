"""bisect without containers: the search against fake oracles (every change point, skips, flaky runs,
terms), the end checks and their refusals, the resumable log, and the CLI with a fake step function."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

import harness.cli.bisect as bisect_cli
from harness.bisect import RunCounts, Search, StepOutcome, Terms, judge_runs, parse_terms, step_bound
from harness.bisect.bisector import Bisector
from harness.bisect.log import BisectLog, step_outcome
from harness.cli.main import main
from harness.errors import UserError
from harness.incoming.bisectlog import StepLine
from harness.results import CellResult, RunResults, now
from harness.suite.protocol import CellSpec, TestRecord
from tests.unit.test_releases import packument, registry  # noqa: F401 (a fixture)

VERSIONS = [f"0.{n}.0" for n in range(100, 140)]


def oracle(first_new: int, skips: frozenset[int] = frozenset()) -> Callable[[str], StepOutcome]:
    """A fake step: releases from index ``first_new`` on are new, ``skips`` cannot be judged; counts calls."""

    def step(version: str) -> StepOutcome:
        i = VERSIONS.index(version)
        step.calls.append(version)  # type: ignore[attr-defined]
        verdict = "skip" if i in skips else "new" if i >= first_new else "old"
        return StepOutcome(version, verdict, RunCounts(met=int(verdict == "old"), missed=int(verdict == "new")),  # type: ignore[arg-type]
                           container_runs=1)

    step.calls = []  # type: ignore[attr-defined]
    return step


def _bisect(versions: list[str], step: Callable[[str], StepOutcome], tmp_path: Path, terms: Terms | None = None,
            earlier: list[StepOutcome] | None = None) -> dict:  # type: ignore[type-arg]
    terms = terms or Terms()
    log = BisectLog(tmp_path / "bisect.jsonl", {"p": 1})
    if earlier is None:
        log.start({})
    return Bisector(versions, terms, step, log, earlier or [], progress=lambda line: None).run({"p": 1})


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 25, 40])
def test_every_change_point_is_found_within_the_bound(n: int, tmp_path: Path) -> None:
    versions = VERSIONS[:n]
    for k in range(1, n):
        step = oracle(k)
        summary = _bisect(versions, step, tmp_path)
        assert summary["first_new"] == versions[k] and summary["last_old"] == versions[k - 1]
        assert summary["candidates"] == [versions[k]]
        assert len(step.calls) <= step_bound(n), (n, k, step.calls)  # type: ignore[attr-defined]
        assert step.calls[:2] == [versions[0], versions[-1]]  # both ends first  # type: ignore[attr-defined]
        assert summary["container_runs"] == len(step.calls) == summary["step_count"]  # type: ignore[attr-defined]


def test_step_bound_is_ceil_log2_plus_2() -> None:
    assert [step_bound(n) for n in (2, 3, 4, 5, 15, 16, 17, 138)] == [3, 4, 4, 5, 6, 6, 7, 10]


def test_skipped_releases_widen_the_answer_and_never_end_the_search(tmp_path: Path) -> None:
    rng = random.Random(11)
    for _ in range(300):
        n = rng.randint(3, 40)
        k = rng.randint(1, n - 1)
        skips = frozenset(i for i in range(1, n - 1) if rng.random() < 0.3)
        summary = _bisect(VERSIONS[:n], oracle(k, skips), tmp_path)
        candidates = [VERSIONS.index(v) for v in summary["candidates"]]
        assert k in candidates, (n, k, sorted(skips), summary["candidates"])
        assert candidates == list(range(candidates[0], candidates[-1] + 1))  # one contiguous window
        assert all(i in skips for i in candidates[:-1]) and candidates[-1] not in skips
        assert VERSIONS.index(summary["last_old"]) == candidates[0] - 1


def test_skip_moves_the_probe_to_a_neighbour() -> None:
    s = Search(VERSIONS[:9])
    s.record(VERSIONS[0], "old")
    s.record(VERSIONS[8], "new")
    assert s.next_probe() == VERSIONS[4]
    s.record(VERSIONS[4], "skip")
    assert s.next_probe() in (VERSIONS[3], VERSIONS[5])


def _run(status_by_cell: dict[str, str]) -> RunResults:
    cells = []
    for cell_id, status in status_by_cell.items():
        cell = CellSpec("0.130.0", cell_id, "ephemeral", ("tool-race",))
        outcome = {"fail": "fail", "pass": "pass", "error": "error", "xfail": "xfail"}[status]
        tests = [TestRecord(cell.id, "test_tool_round_trip[tool-race]", "tool-race", outcome, f"{status}!")]
        cells.append(CellResult(cell, status, tests=tests))
    return RunResults(started=now(), duration_s=1.0, cells=cells)


@pytest.mark.parametrize(("runs", "verdict", "counts"), [
    (["pass", "fail", "pass"], "new", RunCounts(met=2, missed=1)),  # bad if any run is bad
    (["pass", "pass", "pass"], "old", RunCounts(met=3)),
    (["pass", "error"], "old", RunCounts(met=1, error=1)),
    (["error", "error"], "skip", RunCounts(error=2)),  # nothing judged: git bisect skip
    (["error", "fail"], "new", RunCounts(missed=1, error=1)),
])
def test_runs_of_a_step_are_counted(runs: list[str], verdict: str, counts: RunCounts) -> None:
    outcome = judge_runs("0.130.0", [_run({"codex-api-key": s}) for s in runs], Terms())
    assert (outcome.verdict, outcome.counts) == (verdict, counts)
    assert outcome.container_runs == len(runs)
    if verdict == "new":
        assert outcome.detail.startswith("codex0.130.0-codex-api-key-ephemeral: test_tool_round_trip[tool-race]")
    if verdict == "skip":
        assert outcome.reason.startswith("the run errored: ")


def test_one_missed_cell_makes_the_run_missed() -> None:
    outcome = judge_runs("0.130.0", [_run({"codex-api-key": "pass", "auth-json": "fail"})], Terms())
    assert outcome.verdict == "new" and outcome.cells == {"codex0.130.0-codex-api-key-ephemeral": "pass",
                                                         "codex0.130.0-auth-json-ephemeral": "fail"}


def test_terms_broken_fixed_find_the_fix(tmp_path: Path) -> None:
    terms = parse_terms("broken,fixed")
    assert terms == Terms("broken", "fixed", new_misses=False)
    assert judge_runs("0.146.0", [_run({"codex-api-key": "pass"})], terms).verdict == "new"
    assert judge_runs("0.145.0", [_run({"codex-api-key": "fail"})], terms).verdict == "old"

    def fixed_from_146(version: str) -> StepOutcome:  # what a tool-race step would show, judged by the terms
        missed = int(version.split(".")[1]) < 126
        return StepOutcome(version, terms.verdict(missed), container_runs=1)

    summary = _bisect(VERSIONS[:30], fixed_from_146, tmp_path, terms)
    assert summary["first_new"] == "0.126.0" and summary["finds"] == "fix"
    assert summary["links"] == {
        "first_new": "https://github.com/openai/codex/releases/tag/rust-v0.126.0",
        "last_old": "https://github.com/openai/codex/releases/tag/rust-v0.125.0",
        "compare": "https://github.com/openai/codex/compare/rust-v0.125.0...rust-v0.126.0",
    }


@pytest.mark.parametrize(("text", "want"), [
    (None, Terms("good", "bad", True)),
    ("good,bad", Terms("good", "bad", True)),
    ("refused,holds", Terms("refused", "holds", False)),
    ("works,lost", Terms("works", "lost", True)),
    ("before,fixed", Terms("before", "fixed", False)),
])
def test_terms(text: str | None, want: Terms) -> None:
    assert parse_terms(text) == want


@pytest.mark.parametrize(("text", "fragment"), [
    ("good", "give two different words"),
    ("good,good", "give two different words"),
    ("good,fixed", "both words mean the same"),
    ("foo,bar", "cannot tell which word means the cell meets its expectation"),
    ("a b,c", "give two different words"),
])
def test_bad_terms(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        parse_terms(text)


@pytest.mark.parametrize(("first_new", "skips", "fragment"), [
    (0, frozenset(), "--good 0.100.0 is bad, not good"),
    (99, frozenset(), "--bad 0.109.0 is good, not bad: pick a newer --bad"),
    (5, frozenset({0}), "--good 0.100.0 could not be judged"),
    (5, frozenset({9}), "--bad 0.109.0 could not be judged"),
])
def test_ends_are_checked_first_and_refused_in_one_line(first_new: int, skips: frozenset[int], fragment: str,
                                                        tmp_path: Path) -> None:
    step = oracle(first_new, skips)
    with pytest.raises(UserError) as err:
        _bisect(VERSIONS[:10], step, tmp_path)
    assert fragment in str(err.value) and "\n" not in str(err.value)
    assert len(step.calls) <= 2  # type: ignore[attr-defined]


def test_an_interrupted_bisect_resumes_from_its_log(tmp_path: Path) -> None:
    versions = VERSIONS[:20]
    truth = oracle(13)
    calls = 0

    def interrupted(version: str) -> StepOutcome:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt
        return truth(version)

    with pytest.raises(KeyboardInterrupt):
        _bisect(versions, interrupted, tmp_path)
    log = BisectLog(tmp_path / "bisect.jsonl", {"p": 1})
    earlier = log.resumable()
    assert earlier is not None and len(earlier) == 3 and all(s.resumed for s in earlier)
    assert BisectLog(tmp_path / "bisect.jsonl", {"p": 2}).resumable() is None  # another bisect's log
    again = oracle(13)
    summary = _bisect(versions, again, tmp_path, earlier=earlier)
    assert summary["first_new"] == versions[13]
    assert not set(again.calls) & {s.version for s in earlier}  # type: ignore[attr-defined]
    assert summary["resumed_steps"] == 3 and summary["container_runs"] == len(again.calls)  # type: ignore[attr-defined]
    lines = [json.loads(x) for x in (tmp_path / "bisect.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "start" and [x["kind"] for x in lines[1:]] == ["step"] * len(summary["steps"])


def test_step_log_lines_round_trip() -> None:
    step = StepOutcome("0.130.0", "new", RunCounts(met=2, missed=1), "a: b", cells={"c": "fail"}, duration_s=3.5,
                       container_runs=3)
    back = step_outcome(StepLine.model_validate(json.loads(json.dumps(step.to_json()))))
    assert back.resumed and (back.version, back.verdict, back.counts, back.cells, back.container_runs) == (
        "0.130.0", "new", RunCounts(met=2, missed=1), {"c": "fail"}, 3)


# -- the CLI, with the registry on loopback and a fake step instead of containers -------------------


@pytest.fixture
def cli_env(registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    import harness.docker_env
    import harness.orphans

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", registry)
    monkeypatch.setattr(harness.docker_env, "docker_client", lambda: None)
    monkeypatch.setattr(harness.orphans, "reap", lambda client: "")  # no daemon, so no orphans
    return tmp_path / "out"


def test_bisect_command_reports_links_and_logs(cli_env: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[str, list[str]]] = []

    def fake_step(version, index, cells_for, invocation, terms):  # type: ignore[no-untyped-def]
        cells = cells_for(version)
        seen.append((version, [f"{c.id}:{c.expect}:{','.join(c.scenarios)}:{len(c.known)}" for c in cells]))
        if not index.find(version).installable:
            return StepOutcome(version, "skip", reason="npm has no linux-x64 build of it")
        return StepOutcome(version, terms.verdict(Version(version) < Version("0.99.0")), container_runs=1)

    monkeypatch.setattr(bisect_cli, "_step", fake_step)
    argv = ["bisect", "--good", "0.98.0", "--bad", "0.143.0", "--expect", "native", "--credentials", "codex-api-key",
            "--policies", "ephemeral", "--scenarios", "ok", "--terms", "refused,holds", "--out", str(cli_env)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "first holds:  0.99.0" in out and "last refused: 0.98.0" in out
    assert "https://github.com/openai/codex/compare/rust-v0.98.0...rust-v0.99.0" in out
    assert "step 1: 0.98.0: refused" in err
    assert seen[0] == ("0.98.0", ["codex0.98.0-codex-api-key-ephemeral:native:ok:0"])  # --expect overrides
    assert main([*argv, "--json"]) == 0  # the same bisect again: every step read back from the log
    data = json.loads(capsys.readouterr().out)
    assert data["first_new"] == "0.99.0" and data["container_runs"] == 0 and data["resumed_steps"] >= 3
    kinds = [json.loads(x)["kind"] for x in (cli_env / "bisect.jsonl").read_text().splitlines()]
    assert kinds[0] == "start" and kinds.count("result") == 2


@pytest.mark.parametrize(("args", "fragment"), [
    (["--good", "0.117.0", "--bad", "0.117.0"], "--good and --bad are both 0.117.0"),
    (["--good", "0.125.0", "--bad", "0.117.0"], "0.125.0..0.117.0 is reversed"),
    (["--good", "0.118.0", "--bad", "0.125.0"], "--good: 0.118.0 is not a stable release"),
    (["--good", "0.117.0", "--bad", "0.142.1"], "--bad: npm has no linux-x64 build of 0.142.1"),
    (["--good", "0.117.0", "--bad", "latest-999"], "latest-999 goes back past"),
    (["--good", "0.117.0", "--bad", "0.125.0", "--terms", "foo,bar"], "cannot tell which word"),
    (["--good", "0.117.0", "--bad", "0.125.0", "--runs", "0"], "--runs and --jobs take a whole number"),
    (["--good", "0.117.0", "--bad", "0.125.0", "--cells", "codex0.117.0-nobody-ephemeral"], "--cells: no cell"),
    (["--good", "0.117.0", "--bad", "0.125.0", "--credentials", "nobody"], "--credentials: unknown value"),
])
def test_bad_bisect_input_is_one_line_exit_2_nothing_written(args: list[str], fragment: str, cli_env: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bisect", *args, "--out", str(cli_env)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and fragment in err and err.count("\n") == 1
    assert not cli_env.exists()


def test_packument_fixture_is_the_one_the_cli_sees() -> None:
    assert "0.142.1" in packument()["versions"]
