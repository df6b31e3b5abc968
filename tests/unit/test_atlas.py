"""The atlas without Docker: releases from a packument, the jsonl log, and the timeline from synthetic lines."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.atlas import write_timeline
from harness.atlas.cells import CREDENTIALS, POLICIES, SCENARIOS, atlas_cells
from harness.atlas.cpu import container_cpu_s
from harness.atlas.known import known_rows
from harness.atlas.prepared import PhaseClock
from harness.atlas.record import AtlasLog, cells_part, new_record
from harness.atlas.releases import notes_url, parse_bound, stable_releases
from harness.atlas.reporting import summary_line
from harness.atlas.timeline import beside_binary, build_timeline, find_fact, record_facts, spans_of
from harness.binaries import cached, fetch, remove
from harness.binaries.extract import NoLinuxBuild
from harness.cli.main import main
from harness.errors import UserError
from harness.fingerprint import build_fingerprints
from harness.matrix import load_matrix
from harness.results import CellResult, RunResults, now
from harness.suite.protocol import CellSpec, TestRecord
from tests.unit.test_binaries import FakeRegistry, make_tgz, registry  # noqa: F401  (fixture)

# -- synthetic atlas.jsonl lines ----------------------------------------------------------------------------


def line(version: str, *, status: str = "ok", flags: tuple[str, ...] = ("--json",), usage: tuple[str, ...] = (),
         protocol: str = "thread-events", honoured: tuple[str, ...] = (), stderr: tuple[str, ...] = (),
         files: tuple[str, ...] = ("codex/codex",), binary: str = "codex/codex",
         race: dict[str, str] | None = None) -> dict[str, Any]:
    record = new_record(version, version)
    record["status"] = status
    if status != "ok":
        record["error"] = {"phase": "fetch", "message": "boom"}
        return record
    record["fingerprint"] = {
        "protocol": protocol, "flags": list(flags), "event_types": ["turn.completed"], "item_types": [],
        "usage_keys": list(usage), "tools_declared": ["shell"], "credential_sources_honoured": list(honoured),
        "session_files": {"persistent": 1}, "stderr": list(stderr), "model_catalog": [],
    }
    record["tree_files"], record["binary_relpath"] = list(files), binary
    race = race or {"codex-api-key/persistent": "pass"}
    record["cells"] = {k: {"status": "pass" if v == "pass" else "fail", "expected": "native"} for k, v in race.items()}
    record["tests"] = {k: {"test_tool_round_trip[tool-race]": v, "test_tool_round_trip[tool]": "pass",
                           "test_event_grammar[ok]": "pass"} for k, v in race.items()}
    record["timings"].update(download_s=1.0, unpack_s=2.0, image_s=3.0, runs_s=10.0, total_s=16.0)
    return record


def test_spans_of_presence_runs() -> None:
    versions = ["a", "b", "c", "d", "e"]
    spans = spans_of([True, False, True, True, False], versions)
    assert [(s.appeared, s.appeared_after, s.last_seen, s.went_away) for s in spans] == [
        ("a", None, "a", "b"), ("c", "b", "d", "e")]
    assert spans_of([False, False], ["a", "b"]) == []


def test_timeline_finds_appear_and_disappear_releases() -> None:
    records = [
        line("0.42.0", protocol="legacy", honoured=("openai-api-key",)),
        line("0.20.0", protocol="legacy", honoured=("openai-api-key",)),  # out of order on purpose
        line("0.36.0", protocol="legacy"),
        line("0.44.0", honoured=("codex-api-key",), stderr=("warn: x",)),
        line("0.45.0", status="not-installable"),  # says nothing: must not end or start a span
        line("0.99.0", flags=("--json", "--ephemeral"), honoured=("codex-api-key",), usage=("input_tokens",)),
        line("0.121.0", flags=("--json", "--ephemeral"), honoured=("codex-api-key",),
             usage=("input_tokens", "reasoning_output_tokens"), stderr=("warn: x",)),
    ]
    timeline = build_timeline(records)
    assert timeline["observed"] == ["0.20.0", "0.36.0", "0.42.0", "0.44.0", "0.99.0", "0.121.0"]
    assert [r["version"] for r in timeline["releases"]][4] == "0.45.0"

    def spans(category: str, value: str) -> list[tuple[str, str | None, str, str | None]]:
        fact = find_fact(timeline, category, value)
        assert fact is not None, (category, value)
        return [(s["appeared"], s["appeared_after"], s["last_seen"], s["went_away"]) for s in fact["spans"]]

    assert spans("protocol", "thread-events") == [("0.44.0", "0.42.0", "0.121.0", None)]
    assert spans("protocol", "legacy") == [("0.20.0", None, "0.42.0", "0.44.0")]
    assert spans("credential", "openai-api-key") == [("0.20.0", None, "0.20.0", "0.36.0"),
                                                     ("0.42.0", "0.36.0", "0.42.0", "0.44.0")]
    # 0.45.0 was not observed: the span runs from 0.44.0 across it
    assert spans("credential", "codex-api-key") == [("0.44.0", "0.42.0", "0.121.0", None)]
    assert spans("flag", "--ephemeral") == [("0.99.0", "0.44.0", "0.121.0", None)]
    assert spans("usage", "reasoning_output_tokens") == [("0.121.0", "0.99.0", "0.121.0", None)]
    assert spans("stderr", "warn: x") == [("0.44.0", "0.42.0", "0.44.0", "0.99.0"),
                                          ("0.121.0", "0.99.0", "0.121.0", None)]
    assert find_fact(timeline, "flag", "--json")["constant"] is True  # type: ignore[index]
    ephemeral = find_fact(timeline, "flag", "--ephemeral")
    assert ephemeral is not None and ephemeral["spans"][0]["appeared_notes"] == notes_url("0.99.0")
    assert notes_url("0.99.0") == "https://github.com/openai/codex/releases/tag/rust-v0.99.0"
    change = next(c for c in timeline["changes"] if c["version"] == "0.44.0")
    assert {"category": "protocol", "value": "thread-events"} in change["appeared"]
    assert {"category": "protocol", "value": "legacy"} in change["went_away"]
    assert change["after"] == "0.42.0"
    assert "0.45.0" not in {c["version"] for c in timeline["changes"]}


def test_tool_race_rows_and_known_rows() -> None:
    records = [
        line("0.116.0"),
        line("0.117.0", race={"codex-api-key/persistent": "fail", "auth-json/persistent": "pass"}),
        line("0.145.0", race={"codex-api-key/persistent": "fail", "auth-json/persistent": "fail"}),
        line("0.146.0"),
        line("0.99.0", flags=("--json", "--ephemeral")),
        line("0.98.0"),
    ]
    timeline = build_timeline(records)
    rows = {r["version"]: r for r in timeline["tool_race"]}
    assert rows["0.117.0"]["counts"] == {"fail": 1, "pass": 1}
    assert rows["0.117.0"]["failing_cells"] == ["codex-api-key/persistent"]
    assert rows["0.146.0"]["failing_cells"] == []
    assert rows["0.145.0"]["race_tests"] == {"auth-json/persistent": ["test_tool_round_trip"],
                                            "codex-api-key/persistent": ["test_tool_round_trip"]}
    # a build whose every tool turn fails (0.8.0 never exits) is not a race
    hangs = line("0.8.0", race={"none/persistent": "fail"})
    hangs["tests"]["none/persistent"]["test_tool_round_trip[tool]"] = "fail"
    assert build_timeline([hangs])["tool_race"][0]["failing_cells"] == []
    found = {r["what"]: r["found"] for r in known_rows(timeline)}
    assert found["`tool-race`: a command's item.completed lost"].startswith("0.117.0–0.145.0")
    assert found["`--ephemeral`"] == "0.99.0 (after 0.98.0)"
    assert found["`shell` tool gone"] == "still there in 0.146.0"
    assert found["CODEX_API_KEY honoured"].startswith("never seen")


def test_record_facts_of_unobserved_release_is_none_and_files_beside_binary() -> None:
    assert record_facts(line("0.1.0", status="not-installable")) is None
    facts = record_facts(line("0.145.0", binary="bin/codex", files=(
        "bin/codex", "bin/codex-code-mode-host", "codex-package.json", "codex-path/rg",
        "codex-resources/zsh/bin/zsh", "codex-resources/bwrap")))
    assert facts is not None
    assert {v for c, v in facts if c == "file"} == {
        "bin/codex-code-mode-host", "codex-package.json", "codex-path/rg", "codex-resources/zsh/",
        "codex-resources/bwrap"}
    assert beside_binary(["codex-x86_64-unknown-linux-musl"], "codex-x86_64-unknown-linux-musl") == []
    assert beside_binary(["codex/codex", "path/rg"], "codex/codex") == ["path/rg"]
    assert ("test", "test_tool_round_trip[tool-race]: pass") in facts
    assert ("cell", "codex-api-key/persistent: pass") in facts


def test_cells_cut_short_say_nothing_about_the_build() -> None:
    record = line("0.140.0", race={"codex-api-key/persistent": "pass", "auth-json/persistent": "fail"})
    record["cells"]["auth-json/persistent"].update(status="timeout", unfinished="died")
    facts = record_facts(record)
    assert facts is not None
    assert ("test", "test_tool_round_trip[tool-race]: fail") not in facts
    assert ("cell", "auth-json/persistent: timeout") not in facts
    assert ("cell", "codex-api-key/persistent: pass") in facts
    row = build_timeline([record])["tool_race"][0]
    assert row["counts"] == {"pass": 1} and row["failing_cells"] == []


def _results(version: str, unfinished: str | None) -> RunResults:
    cells = [CellResult(cell=c, status="timeout" if unfinished else "pass", unfinished=unfinished,
                        fingerprint={"version_line": f"codex-cli {version}", "protocol": "thread-events", "flags": []},
                        tests=[TestRecord(c.id, "test_event_grammar[ok]", "ok", "pass")])
             for c in atlas_cells(load_matrix(), version, "compact")]
    return RunResults(started=now(), duration_s=1.0, cells=cells, builds=build_fingerprints(cells))


@pytest.mark.parametrize(("ends", "status", "retried"), [
    ((None,), "ok", False),
    (("died", None), "ok", True),  # a container killed from outside is run once more
    (("died", "died"), "error", True),  # twice: recorded as an error of the runs phase, facts not "gone"
])
def test_a_suite_that_did_not_finish_is_run_once_more(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      ends: tuple[str | None, ...], status: str, retried: bool) -> None:
    from harness.atlas import runner
    from harness.atlas.prepared import Prepared
    from harness.atlas.releases import Release

    calls = iter(ends)
    monkeypatch.setattr(runner, "run_jobs", lambda plans, options, reporter, **_: _results("0.150.0",
                                                                                                 next(calls)))
    notes: list[str] = []

    class Notes:
        def release_started(self, *a: object) -> None: ...
        def release_recorded(self, *a: object) -> None: ...
        def note(self, message: str) -> None:
            notes.append(message)

    atlas = runner.Atlas(None, load_matrix(), "base:tag", runner.AtlasOptions(out_dir=tmp_path), Notes())
    native = atlas.run_options(atlas_cells(load_matrix(), "0.150.0")).timeouts
    assert native.hang_s == load_matrix().timeouts.hang_s and native.container_s <= runner.CONTAINER_BUDGET_S
    assert atlas.run_options(atlas_cells(load_matrix(), "0.20.0")).timeouts.hang_s == load_matrix().timeouts.hang_s
    prepared = Prepared(Release("0.150.0", "0.150.0-linux-x64"), new_record("0.150.0", "0.150.0-linux-x64"),
                         image="img:0.150.0")
    assert atlas.run_cells(prepared) is True
    assert prepared.record["status"] == status and bool(prepared.record.get("retried")) is retried
    assert bool(notes) is retried
    if status == "error":
        assert prepared.record["error"]["phase"] == "runs"
    else:
        assert prepared.record["fingerprint"]["version_line"] == "codex-cli 0.150.0"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def test_written_timeline_is_self_contained_and_linked(tmp_path: Path) -> None:
    records = [line("0.98.0"), line("0.99.0", flags=("--json", "--ephemeral"), stderr=("<script>x</script>",)),
               line("0.142.1", status="not-installable")]
    paths = write_timeline(tmp_path, records)
    assert [p.name for p in paths] == ["atlas.json", "atlas.md", "atlas.html"]
    data = json.loads((tmp_path / "atlas.json").read_text())
    assert data["schema"] == 1 and data["observed"] == ["0.98.0", "0.99.0"]
    md = (tmp_path / "atlas.md").read_text()
    assert "[0.99.0](https://github.com/openai/codex/releases/tag/rust-v0.99.0) (after 0.98.0)" in md
    assert "0.142.1" in md and "not-installable" in md
    page = (tmp_path / "atlas.html").read_text()
    parser = _Links()
    parser.feed(page)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert parser.urls and all(u.startswith("https://github.com/openai/codex/releases/tag/rust-v") for u in parser.urls)
    assert "&lt;script&gt;x&lt;/script&gt;" in page


# -- the log ------------------------------------------------------------------------------------------------


def test_log_appends_resumes_and_repairs_a_torn_tail(tmp_path: Path) -> None:
    log = AtlasLog(tmp_path / "atlas.jsonl")
    assert log.read() == [] and log.recorded() == set()
    log.append(line("0.20.0"))
    with log.path.open("a") as fh:
        fh.write('{"schema": 1, "version": "0.21.0", "stat')  # a crash mid-line
    log.append(line("0.22.0"))
    assert log.recorded() == {"0.20.0", "0.22.0"}
    assert all(json.loads(raw) for raw in log.path.read_text().splitlines())
    rerun = line("0.20.0", flags=("--json", "--new"))
    log.append(rerun)
    records = log.read()
    assert [r["version"] for r in records] == ["0.22.0", "0.20.0"]  # the rerun replaced the first line
    assert records[-1]["fingerprint"]["flags"] == ["--json", "--new"]


def test_log_lines_are_redacted(tmp_path: Path) -> None:
    log = AtlasLog(tmp_path / "atlas.jsonl")
    record = line("0.20.0", stderr=("Authorization: Bearer sk-abcdefghijklmnop",))
    log.append(record)
    assert "sk-abcdefghijklmnop" not in log.path.read_text()


def test_cells_part_keeps_statuses_outcomes_and_failure_messages() -> None:
    cell = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool-race"))
    result = CellResult(cell=cell, status="fail", lane_s={"ok": 1.0, "tool-race": 2.5}, tests=[
        TestRecord(cell.id, "test_event_grammar[ok]", "ok", "pass"),
        TestRecord(cell.id, "test_tool_round_trip[tool-race]", "tool-race", "fail", "no item.completed\nmore"),
    ])
    cells, tests, failures = cells_part([result])
    assert cells == {"codex-api-key/persistent": {"status": "fail", "expected": "native", "lane_s": 3.5}}
    assert tests["codex-api-key/persistent"]["test_tool_round_trip[tool-race]"] == "fail"
    assert failures == {"codex-api-key/persistent": {"test_tool_round_trip[tool-race]": "no item.completed"}}


# -- releases, cells, costs ---------------------------------------------------------------------------------


def test_stable_releases_oldest_first_with_uninstallable_ones() -> None:
    reg = "https://registry.example/"

    def meta(version: str, alias: str | None = None) -> dict[str, Any]:
        m: dict[str, Any] = {"dist": {"tarball": f"{reg}{version}.tgz", "integrity": "sha512-AA=="}}
        if alias:
            m["optionalDependencies"] = {"@openai/codex-linux-x64": f"npm:@openai/codex@{alias}"}
        return m

    doc = {"versions": {
        "0.100.0": meta("0.100.0", "0.100.0-linux-x64"), "0.100.0-linux-x64": meta("0.100.0-linux-x64"),
        "0.20.0": meta("0.20.0"), "0.99.0-alpha.1": meta("0.99.0-alpha.1"), "0.98.0": meta("0.98.0"),
        "0.142.1": meta("0.142.1", "0.142.1-linux-x64"),  # alias never published
        "0.1.2504172351": meta("0.1.2504172351"),
    }}
    releases = stable_releases(doc, reg)
    assert [r.version for r in releases] == ["0.1.2504172351", "0.20.0", "0.98.0", "0.100.0", "0.142.1"]
    assert releases[3].npm_version == "0.100.0-linux-x64"
    assert releases[4].unavailable and "does not carry" in releases[4].unavailable
    bounded = stable_releases(doc, reg, since=parse_bound("--since", "0.20"), until=parse_bound("--until", "0.100.0"))
    assert [r.version for r in bounded] == ["0.20.0", "0.98.0", "0.100.0"]
    with pytest.raises(UserError, match=re.escape("--since 'x.y' is not a version")):
        parse_bound("--since", "x.y")


def test_atlas_cells_take_the_default_matrix_expectations() -> None:
    config = load_matrix()
    legacy = atlas_cells(config, "0.20.0", "compact")
    assert len(legacy) == len(CREDENTIALS) * len(POLICIES) and all(c.scenarios == SCENARIOS for c in legacy)
    assert {c.expect for c in legacy} == {"legacy-fallback"}
    old = {(c.credential, c.policy): c.expect for c in atlas_cells(config, "0.98.0", "compact")}
    assert old[("codex-api-key", "ephemeral")] == "ephemeral-unsupported"
    assert old[("codex-api-key", "persistent")] == "native"
    assert old[("none", "persistent")] == "auth-required"
    new = {(c.credential, c.policy): c.expect for c in atlas_cells(config, "0.150.0", "compact")}
    assert new[("auth-json", "ephemeral")] == "native"


def test_phase_clock_and_summary_line() -> None:
    clock = PhaseClock()
    clock.start("download @openai/codex@0.20.0", 1000)
    clock.done("x")
    clock.start("unpack @openai/codex@0.20.0")
    clock.done()
    assert set(clock.seconds) == {"download", "unpack"} and clock.totals == {"download": 1000}
    text = summary_line(line("0.99.0"), 3, 10)
    assert re.match(r"\[3/10\] 0\.99\.0: 1/1 cells met \(download 1\.0 s, unpack 2\.0 s, image 3\.0 s", text)
    assert "not-installable at fetch: boom" in summary_line(line("0.1.0", status="not-installable"), 1, 1)


def test_container_cpu_from_cgroup_v1_and_v2(tmp_path: Path) -> None:
    v1 = tmp_path / "v1" / "cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpuacct.usage").write_text("2500000000\n")
    assert container_cpu_s("abc", root=tmp_path / "v1") == 2.5
    v2 = tmp_path / "v2" / "system.slice" / "docker-abc.scope"
    v2.mkdir(parents=True)
    (v2 / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert container_cpu_s("abc", root=tmp_path / "v2") == 1.5
    assert container_cpu_s("abc", root=tmp_path / "none") is None


# -- the cache operations the atlas relies on ---------------------------------------------------------------


def test_fetch_with_a_given_packument_and_remove(registry: FakeRegistry, tmp_path: Path) -> None:  # noqa: F811
    doc = json.loads(registry.packument())
    build = fetch("0.44.0", cache_dir=tmp_path, registry=registry.url, packument=doc)
    assert not any("%2f" in r.lower() for r in registry.requests)  # the packument was not fetched again
    assert build.binary_relpath == "codex/codex"
    assert remove("0.44.0", cache_dir=tmp_path) is True
    assert cached("0.44.0", cache_dir=tmp_path) is None and not (tmp_path / "0.44.0").exists()
    assert remove("0.44.0", cache_dir=tmp_path) is False


def test_package_without_linux_build_is_not_installable(registry: FakeRegistry, tmp_path: Path) -> None:  # noqa: F811
    registry.publish("0.1.0", make_tgz({"package.json": b"{}", "dist/cli.js": b""}))
    with pytest.raises(NoLinuxBuild):
        fetch("0.1.0", cache_dir=tmp_path, registry=registry.url)


# -- the command line ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "soon"], "--since 'soon' is not a version"),
        (["--since", "0.101.0", "--until", "0.97.0"], "--since 0.101.0 is after --until 0.97.0"),
        (["-j", "0"], "-j/--jobs 0: give a whole number of at least 1"),
        (["--parallel", "0"], "--parallel 0: give a whole number of at least 1"),
        (["--disk-budget", "-5"], "--disk-budget -5: give a whole number of at least 1"),
        (["--timeline-only"], "holds no release"),
    ],
)
def test_atlas_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["atlas", *args, "--out", str(tmp_path / "atlas")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and fragment in err and err.count("\n") == 1
    assert not (tmp_path / "atlas").exists()


def test_atlas_timeline_only_rebuilds_from_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = AtlasLog(tmp_path / "atlas.jsonl")
    for record in (line("0.98.0"), line("0.99.0", flags=("--json", "--ephemeral"))):
        log.append(record)
    assert main(["atlas", "--timeline-only", "--out", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().err
    assert find_fact(json.loads((tmp_path / "atlas.json").read_text()), "flag", "--ephemeral") is not None


def test_the_default_cell_set_is_what_run_expands_for_the_release() -> None:
    from harness.matrix import Selection, select

    config = load_matrix()
    default = atlas_cells(config, "0.125.0", "default")
    ran = select(config, Selection(versions="0.125.0"))
    assert [c.to_json() for c in default] == [c.to_json() for c in ran]  # same cells, expectations and rules
    from harness.fakeapi.scenarios import REACH_SCENARIOS  # run on the codex-api-key cells (matrix.yaml include)

    assert {s for c in default for s in c.scenarios} == set(config.scenarios) | set(REACH_SCENARIOS)
    assert [c.to_json() for c in atlas_cells(config, "0.125.0")] == [c.to_json() for c in default]  # the default
    compact = atlas_cells(config, "0.125.0", "compact")
    assert len(compact) == len(CREDENTIALS) * len(POLICIES) < len(default)
    with pytest.raises(ValueError, match="unknown cell set"):
        atlas_cells(config, "0.125.0", "huge")


def test_resume_skips_only_releases_recorded_with_the_same_cell_set(tmp_path: Path) -> None:
    log = AtlasLog(tmp_path / "atlas.jsonl")
    old = new_record("0.99.0", "0.99.0-linux-x64")
    del old["cell_set"]  # a record written before cell sets: the compact set
    log.append(old)
    log.append({**new_record("0.100.0", "0.100.0-linux-x64"), "cell_set": "default"})
    assert log.recorded("compact") == {"0.99.0"}
    assert log.recorded("default") == {"0.100.0"}
    assert log.recorded() == {"0.99.0", "0.100.0"}


def test_each_known_regression_shows_the_range_it_claims_beside_the_one_observed(tmp_path: Path) -> None:
    from harness.atlas.rules import disagreements, rule_rows

    config = load_matrix()
    race = "test_tool_round_trip[tool-race]"

    def record(version: str, outcome: str) -> dict[str, Any]:
        tests = {"codex-api-key/ephemeral": {race: outcome, "test_event_grammar[ok]": "pass"}}
        return {**new_record(version, None), "status": "ok", "tests": tests}

    observed = ["0.116.0", "0.117.0", "0.130.0", "0.145.0", "0.146.0"]
    truthful = [record("0.116.0", "pass"), record("0.117.0", "xfail"), record("0.130.0", "xfail"),
                record("0.145.0", "xfail"), record("0.146.0", "pass")]
    (strict, *_) = rule_rows(config, truthful, observed)
    assert strict["claimed"] == strict["observed"] == "0.117.0–0.145.0 (3 releases)" and strict["agrees"]
    fixed_early = [*truthful[:3], record("0.145.0", "xpass"), truthful[4]]
    (wrong, *_) = rule_rows(config, fixed_early, observed)
    assert not wrong["agrees"] and wrong["fixed_in"] == ["0.145.0"] and wrong["observed"].startswith("0.117.0–0.130.0")
    assert disagreements([strict, wrong]) == [wrong]
    from harness.atlas.markdown import render_markdown

    timeline = {**build_timeline(fixed_early), "rules": [strict, wrong]}
    markdown = render_markdown(timeline)
    assert "Known regressions: claimed vs observed" in markdown and "**NO**" in markdown
    from harness.atlas.html import render_html

    assert "<b class=bad>NO</b>" in render_html(timeline)


@pytest.mark.parametrize(("raised", "recorded"), [(OSError("daemon gone"), True), (TypeError("a bug"), False)])
def test_a_harness_bug_is_not_recorded_as_a_releases_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           raised: Exception, recorded: bool) -> None:
    """The atlas records what a release's environment broke and goes on; a bug in the harness fails the command."""
    from harness.atlas import runner
    from harness.atlas.prepared import Prepared
    from harness.atlas.releases import Release

    def broken(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(runner, "run_jobs", broken)

    class Quiet:
        def release_started(self, *a: object) -> None: ...
        def release_recorded(self, *a: object) -> None: ...
        def note(self, message: str) -> None: ...

    atlas = runner.Atlas(None, load_matrix(), "base:tag", runner.AtlasOptions(out_dir=tmp_path), Quiet())
    prepared = Prepared(Release("0.150.0", "0.150.0-linux-x64"), new_record("0.150.0", "0.150.0-linux-x64"),
                        image="img:0.150.0")
    if recorded:
        assert atlas.run_cells(prepared) is True
        assert prepared.record["error"]["phase"] == "runs" and "daemon gone" in prepared.record["error"]["message"]
    else:
        with pytest.raises(TypeError, match="a bug"):
            atlas.run_cells(prepared)
