"""Issue 27, part A: files from elsewhere (shards, repro bundles, bisect.jsonl, atlas.jsonl) are data, never paths.

Each test reproduces one cause of the issue against the real ``codex-matrix`` command (a subprocess of the
target checkout) or an API that exists on both sides, so ``CODEX_MATRIX_FAULTS_TARGET=/path/to/main
PYTHONPATH=/path/to/main`` runs the same tests against the landed main, where they fail. The inputs are
real-shaped: written by the project's own writers (:mod:`tests.unit.outdirs`, :class:`harness.repro.Bundle`),
then edited the way the issue's attempts edited them. A sentinel tree stands for the host's own files
(``~/.ssh``, another project's artifacts): nothing from it may appear in anything a command writes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.bisect.judge import RunCounts, StepOutcome
from harness.bisect.log import BisectLog
from harness.errors import UserError
from harness.outdir import OutDir
from harness.repro import BuildIdentity, Bundle, collect_scenarios, outcome_json
from harness.results import CellResult
from harness.suite.protocol import CellSpec, TestRecord
from tests.faults.conftest import assert_one_line_error, cli
from tests.unit.outdirs import make_out

A = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool"))
C = CellSpec("0.169.0", "codex-api-key", "ephemeral", ("ok",))
SENTINEL = "SENTINEL-c0ffee-host-file"
SENTINEL_FILES = (".ssh/id_rsa", "ok/stderr.txt", "ok/transcript.jsonl", "ok/journal.json", "ok/config.toml",
                  "ok/env.json", "ok/summary.json", "copied.txt")
NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "DOCKER_CONTEXT": ""}
NO_REGISTRY = {"NPM_CONFIG_REGISTRY": "http://127.0.0.1:9/"}


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    """The host's own files, which hostile inputs point at."""
    root = tmp_path / "host"
    for rel in SENTINEL_FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f'"{SENTINEL}"\n')
    return root


def leaked(root: Path) -> list[str]:
    """Files below ``root`` holding sentinel content."""
    return [str(p) for p in root.rglob("*") if p.is_file() and SENTINEL.encode() in p.read_bytes()]


def shard(tmp_path: Path, name: str = "s1", cells: tuple[CellSpec, ...] = (A,)) -> Path:
    make_out(tmp_path / name, list(cells))
    return tmp_path / name


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def first_cell(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda data: change(data["cells"][0])


# -- 1-3: reads and writes outside the out dir (merge, report.html) ---------------------------------------------


def test_cause1_a_shards_artifacts_field_never_chooses_what_merge_copies(tmp_path: Path, sentinel: Path) -> None:
    s = shard(tmp_path)
    shutil.rmtree(s / "raw")  # the shard's own files are gone; its results.json names a host folder instead
    edit(s / "results.json", first_cell(lambda c: c.__setitem__("artifacts", str(sentinel))))
    proc = cli("merge", str(s), "--out", str(tmp_path / "out"))
    assert proc.returncode in (0, 1), proc.stderr
    assert leaked(tmp_path / "out") == []


def test_cause2_a_cell_id_from_a_shard_is_never_a_path(tmp_path: Path) -> None:
    s = shard(tmp_path)
    elsewhere = s / "elsewhere" / "cells" / "x"
    elsewhere.mkdir(parents=True)
    (elsewhere / "copied.txt").write_text("copied\n")
    credential = "x/../../../ESCAPED"

    def hostile(c: dict[str, Any]) -> None:
        c.update(credential=credential, id=f"codex0.117.0-{credential}-persistent", artifacts=str(elsewhere))

    edit(s / "results.json", first_cell(hostile))
    proc = cli("merge", str(s), "--out", str(tmp_path / "a" / "out"))
    assert_one_line_error(proc, "cells[0].credential")
    assert list(tmp_path.rglob("ESCAPED*")) == []


def test_cause3_a_tests_scenario_never_makes_report_html_read_a_folder(tmp_path: Path, sentinel: Path) -> None:
    s = shard(tmp_path)
    edit(s / "results.json", first_cell(lambda c: c["tests"][0].__setitem__("scenario", str(sentinel / "ok"))))
    proc = cli("merge", str(s), "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, "cells[0].tests[0].scenario")
    assert leaked(tmp_path / "out") == []


def test_cause3_report_html_embeds_only_below_the_cells_artifacts(tmp_path: Path, sentinel: Path) -> None:
    from harness.redact import Redactor
    from harness.report.html import render_html
    from harness.results import RunResults, now

    artifacts = tmp_path / "out" / "raw" / "codex0.117.0" / "cells" / A.id
    artifacts.mkdir(parents=True)
    cell = CellSpec(A.version, A.credential, A.policy, (str(sentinel / "ok"), "../../../../host/ok"))
    result = CellResult(cell, "pass", tests=[TestRecord(A.id, "test_x[ok]", "ok", "pass")], artifacts=str(artifacts))
    page = render_html(RunResults(started=now(), duration_s=1.0, cells=[result]), Redactor())
    assert SENTINEL not in page


# -- 4-5: a bundle binds what it verifies to what it runs ----------------------------------------------------


def _build(version: str = "0.117.0", **change: str) -> Any:
    from harness.binaries import CachedBuild

    fields: dict[str, Any] = {
        "version": version, "root": Path("/c/tree"), "binary": Path("/c/tree/codex/codex"),
        "binary_relpath": "codex/codex", "sha256": "ab" * 32, "tree_sha256": "cd" * 32,
        "integrity": "sha512-" + "A" * 86 + "==", "version_line": f"codex-cli {version}",
        "npm_version": f"{version}-linux-x64", "tarball": "https://registry.npmjs.org/x.tgz"}
    fields.update(change)
    return CachedBuild(**fields)


def bundle_file(tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A bundle as `repro CELL` writes it, then edited."""
    tests = [TestRecord(A.id, f"test_event_grammar[{s}]", s, "pass") for s in A.scenarios]
    result = CellResult(A, "pass", tests=tests)
    bundle = Bundle(cell=A, build=BuildIdentity.of(_build()), image={"tag": "img:1", "id": "sha256:1"},
                    timeouts={"codex_s": 45.0, "hang_s": 6.0, "container_s": 1800.0}, outcome=outcome_json(result),
                    scenarios={s: {"stderr": "x"} for s in A.scenarios})
    path = bundle.write(tmp_path / f"{A.id}.repro.json")
    if change is not None:
        edit(path, change)
    return path


def replay(tmp_path: Path, path: Path) -> Any:
    return cli("repro", "--bundle", str(path), "-o", str(tmp_path / "again.json"), "--cache-dir",
               str(tmp_path / "cache"), env={**NO_DOCKER, **NO_REGISTRY})


def test_cause4_a_bundles_scenario_is_never_a_path(tmp_path: Path, sentinel: Path) -> None:
    path = bundle_file(tmp_path, lambda b: b["cell"].__setitem__("scenarios", [str(sentinel / "ok")]))
    assert_one_line_error(replay(tmp_path, path), "cell.scenarios[0]")
    assert not (tmp_path / "again.json").exists()


def test_cause4_collect_scenarios_reads_only_below_the_cells_artifacts(tmp_path: Path, sentinel: Path) -> None:
    artifacts = tmp_path / "job" / "cells" / A.id
    (artifacts / "ok").mkdir(parents=True)
    (artifacts / "ok" / "stderr.txt").write_text("mine\n")
    got = collect_scenarios(artifacts, ["ok", str(sentinel / "ok"), "../../../host/ok"])
    assert got["ok"]["stderr"] == "mine\n"
    assert SENTINEL not in json.dumps(got)


def test_cause5_a_bundle_whose_cell_is_another_build_is_refused_before_anything_runs(tmp_path: Path) -> None:
    def other_cell(b: dict[str, Any]) -> None:
        b["cell"].update(version="0.130.0", id="codex0.130.0-codex-api-key-persistent")
        b["outcome"].update(version="0.130.0", id="codex0.130.0-codex-api-key-persistent")

    proc = replay(tmp_path, bundle_file(tmp_path, other_cell))
    assert_one_line_error(proc, "is not the cell's version 0.130.0")
    outcome_of_another = bundle_file(tmp_path, lambda b: b["outcome"].update(
        credential="none", id="codex0.117.0-none-persistent"))
    assert_one_line_error(replay(tmp_path, outcome_of_another), "is not the cell's id")


def test_cause5_the_fetched_build_must_be_the_bundles_version() -> None:
    identity = BuildIdentity.of(_build("0.117.0"))
    identity.check(_build("0.117.0"))
    with pytest.raises(UserError, match=r"the fetched build is codex-cli 0\.130\.0"):
        identity.check(_build("0.130.0"))  # same bytes, another version: not the build the bundle ran


# -- 6: merge owns its --out ------------------------------------------------------------------------------


def test_cause6_merge_refuses_a_foreign_out_dir_and_touches_nothing(tmp_path: Path) -> None:
    s = shard(tmp_path)
    user = tmp_path / "userdir"
    (user / "raw" / "photos").mkdir(parents=True)
    (user / "raw" / "photos" / "holiday.jpg").write_bytes(b"\xff\xd8 a photo")
    (user / "results.json").write_text('{"mine": true}\n')
    assert_one_line_error(cli("merge", str(s), "--out", str(user)), "was not written by codex-matrix")
    assert (user / "raw" / "photos" / "holiday.jpg").read_bytes() == b"\xff\xd8 a photo"
    assert (user / "results.json").read_text() == '{"mine": true}\n'


def test_cause6_merge_never_deletes_an_input_inside_its_out_dir(tmp_path: Path) -> None:
    nest = shard(tmp_path, "nest")
    inner = shard(nest / "raw", "shardA", (C,))
    before = sorted(str(p.relative_to(inner)) for p in inner.rglob("*"))
    proc = cli("merge", str(inner), "--out", str(nest))
    assert_one_line_error(proc, "are nested")
    assert sorted(str(p.relative_to(inner)) for p in inner.rglob("*")) == before


def test_cause6_merge_marks_and_locks_its_out_dir(tmp_path: Path) -> None:
    s = shard(tmp_path)
    out = tmp_path / "out"
    assert cli("merge", str(s), "--out", str(out)).returncode == 0
    assert (out / ".codex-matrix-out.json").is_file()  # the mark: a later run or merge may replace it
    with OutDir.claim(out):  # another command holds it
        assert_one_line_error(cli("merge", str(s), "--out", str(out)), "is in use by another codex-matrix")
    assert json.loads((out / "results.json").read_text())["cells"][0]["id"] == A.id


# -- 7: append-only logs repair a torn tail --------------------------------------------------------------


def _step(version: str) -> dict[str, Any]:
    return StepOutcome(version, "old", RunCounts(met=1), container_runs=1).to_json()


def test_cause7_a_torn_bisect_line_does_not_swallow_the_next_step(tmp_path: Path) -> None:
    log = BisectLog(tmp_path / "bisect.jsonl", {"p": 1})
    log.start({"releases": ["0.100.0", "0.101.0"]})
    log.append(_step("0.100.0"))
    with log.path.open("a") as fh:
        fh.write('{"kind": "step", "version": "0.10')  # killed mid-line
    log.append(_step("0.101.0"))
    steps = log.resumable()
    assert steps is not None and [s.version for s in steps] == ["0.100.0", "0.101.0"]


# -- 11: one line, exit 2, naming the file and the field ---------------------------------------------------


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda b: b["timeouts"].__setitem__("container_s", -5), "timeouts.container_s"),
    (lambda b: b["timeouts"].__setitem__("codex_s", "45"), "timeouts.codex_s"),
    (lambda b: b.__setitem__("outcome", {"status": 7}), "outcome."),
    (lambda b: b["outcome"].__setitem__("status", "green"), "outcome.status"),
], ids=["negative-timeout", "string-timeout", "outcome-shape", "outcome-status"])
def test_cause11_bad_bundles_are_one_line_before_any_container(tmp_path: Path, change: Any, fragment: str) -> None:
    path = bundle_file(tmp_path, change)
    line = assert_one_line_error(replay(tmp_path, path), fragment)
    assert path.name in line


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda d: d["cells"].__setitem__(0, None), "cells[0]"),
    (lambda d: d.__setitem__("started", "2026-01-01T00:00:00"), "started: has no timezone"),
    (first_cell(lambda c: c.__setitem__("duration_s", 1e400)), "cells[0].duration_s"),
    (first_cell(lambda c: c["lane_s"].__setitem__("ok", "1.5")), "cells[0].lane_s.ok"),
    (first_cell(lambda c: c.__setitem__("status", "\x1b[32mpass\x1b[0m")), "cells[0].status"),
], ids=["null-cell", "naive-timestamp", "1e400-duration", "string-lane-time", "ansi-status"])
def test_cause11_bad_shards_are_one_line(tmp_path: Path, change: Any, fragment: str) -> None:
    s = shard(tmp_path)
    path = s / "results.json"
    text = json.dumps(_changed(json.loads(path.read_text()), change))
    path.write_text(text.replace("Infinity", "1e400"))  # what an editor leaves: a number too large for a float
    line = assert_one_line_error(cli("merge", str(s), "--out", str(tmp_path / "out")), fragment)
    assert "results.json" in line
    assert not (tmp_path / "out").exists()


def _changed(data: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    change(data)
    return data


@pytest.mark.parametrize(("raw", "fragment"), [
    (json.dumps({**_step("0.101.0"), "verdict": "banana"}).encode(), "line 3: verdict"),
    (json.dumps(_step("0.101.0")).encode().replace(b"0.101.0", b"0.101.\xff"), "line 3 is not UTF-8"),
], ids=["banana-verdict", "non-utf8"])
def test_cause11_a_damaged_bisect_log_is_one_line(tmp_path: Path, raw: bytes, fragment: str) -> None:
    log = BisectLog(tmp_path / "bisect.jsonl", {"p": 1})
    log.start({})
    log.append(_step("0.100.0"))
    with log.path.open("ab") as fh:
        fh.write(raw + b"\n")
    with pytest.raises(UserError) as err:
        log.resumable()
    assert fragment in str(err.value) and "\n" not in str(err.value) and len(str(err.value)) < 300


def _atlas_record(version: str) -> dict[str, Any]:
    from harness.atlas.record import new_record

    record = new_record(version, version)
    record["status"] = "not-installable"
    record["error"] = {"phase": "resolve", "message": "no linux-x64 build"}
    return record


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda r: r.__setitem__("version", "0.117.0\n"), "line 2: version"),
    (lambda r: r.__setitem__("version", "banana"), "line 2: version"),
    (lambda r: r.pop("timings"), "line 2: timings"),
    (lambda r: r.pop("cells"), "line 2: cells"),
], ids=["newline-version", "bad-version", "no-timings", "no-cells"])
def test_cause11_a_bad_atlas_record_is_one_line(tmp_path: Path, change: Any, fragment: str) -> None:
    out = tmp_path / "atlas"
    out.mkdir()
    bad = _atlas_record("0.118.0")
    change(bad)
    (out / "atlas.jsonl").write_text(json.dumps(_atlas_record("0.117.0")) + "\n" + json.dumps(bad) + "\n")
    line = assert_one_line_error(cli("atlas", "--timeline-only", "--out", str(out)), fragment)
    assert "atlas.jsonl" in line


def test_cause11_atlas_out_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "atlas-file"
    out.write_text("not a dir\n")
    proc = cli("atlas", "--since", "0.117.0", "--until", "0.117.0", "--out", str(out),
               env={**NO_REGISTRY, **NO_DOCKER, "XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=120)
    assert_one_line_error(proc, "is a file, not a directory")
    assert out.read_text() == "not a dir\n"


# -- 12: the version shape check takes the whole string ------------------------------------------------------


def test_cause12_a_version_with_a_newline_is_refused_everywhere(tmp_path: Path) -> None:
    from harness.binaries.registry import check_version_shape

    with pytest.raises(UserError):
        check_version_shape("0.117.0\n")
    cache = tmp_path / "cache"
    proc = cli("fetch", "0.117.0\n", "--cache-dir", str(cache), env=NO_REGISTRY, timeout=120)
    assert_one_line_error(proc, "is not a codex-cli version")
    assert not [p for p in tmp_path.rglob("*") if "\n" in p.name]
    path = bundle_file(tmp_path, lambda b: b["build"].__setitem__("version", "0.117.0\n"))
    assert_one_line_error(replay(tmp_path, path), "build.version")
