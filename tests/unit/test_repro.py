"""Repro bundles without Docker: round trip, redaction, outcome comparison, the build check, the shell's
command construction, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.binaries import CachedBuild
from harness.cli.main import main
from harness.errors import UserError
from harness.incoming.bundle import read_bundle
from harness.repro import BuildIdentity, Bundle, collect_scenarios, compare, describe, outcome_json
from harness.results import CellResult
from harness.run.shell import exec_argv
from harness.suite.protocol import CellSpec, TestRecord
from harness.suite.shell import render_command

CELL = CellSpec("0.117.0", "codex-api-key", "ephemeral", ("ok", "tool"))
SECRET = "sk-matrix-0123456789abcdef0123456789abcdef"


def _build(**change: str) -> CachedBuild:
    fields = {"version": "0.117.0", "root": Path("/c/0.117.0/tree"), "binary": Path("/c/0.117.0/tree/codex/codex"),
              "binary_relpath": "codex/codex", "sha256": "ab" * 32, "tree_sha256": "cd" * 32,
              "integrity": "sha512-" + "A" * 86 + "==", "version_line": "codex-cli 0.117.0",
              "npm_version": "0.117.0-linux-x64", "tarball": "https://registry.npmjs.org/x.tgz"}
    fields.update(change)
    return CachedBuild(**fields)  # type: ignore[arg-type]


def _result(outcomes: dict[str, str]) -> CellResult:
    tests = [TestRecord(CELL.id, name, name.split("[")[1][:-1], o, "boom" if o == "fail" else "")
             for name, o in outcomes.items()]
    return CellResult(CELL, "fail" if "fail" in outcomes.values() else "pass", tests=tests,
                      artifacts="/tmp/somewhere/cells/x")


def _artifacts(tmp_path: Path) -> Path:
    d = tmp_path / "cells" / CELL.id / "ok"
    d.mkdir(parents=True)
    (d / "stdout.jsonl").write_text('{"type":"thread.started"}\n')
    (d / "stderr.txt").write_text(f"key {SECRET} leaked by a build\n")
    (d / "journal.json").write_text(json.dumps([{"credential": "valid", "model": "gpt-5"}]))
    (d / "env.json").write_text(json.dumps({"CODEX_API_KEY": "***", "HOME": "/var/tmp/cnm/x/home"}))
    (d / "transcript.jsonl").write_text('{"type":"system"}\n')
    (d / "argv.json").write_text('["codex", "exec", "--json"]')
    (d / "config.toml").write_text('model = "gpt-5"\n')
    return tmp_path / "cells" / CELL.id


def test_bundle_round_trip_keeps_everything_and_no_secret(tmp_path: Path) -> None:
    result = _result({"test_a[ok]": "pass", "test_b[tool]": "pass"})
    scenarios = collect_scenarios(_artifacts(tmp_path), CELL.scenarios)
    assert scenarios["ok"]["journal"] == [{"credential": "valid", "model": "gpt-5"}]
    assert scenarios["tool"] == {key: None for key in scenarios["tool"]}  # no artifacts: every key says so
    bundle = Bundle(cell=CELL, build=BuildIdentity.of(_build()), image={"tag": "img:1", "id": "sha256:1"},
                    timeouts={"codex_s": 45.0, "hang_s": 6.0, "container_s": 1800.0}, outcome=outcome_json(result),
                    scenarios=scenarios, k_expr="grammar", argv=["codex-matrix", "repro", CELL.id])
    path = bundle.write(tmp_path / "b.repro.json")
    text = path.read_text()
    assert SECRET not in text and "key *** leaked" in text
    data = json.loads(text)
    assert data["kind"] == "codex-matrix-repro"
    assert data["replay"]["command"] == "codex-matrix repro --bundle b.repro.json"
    assert data["build"]["integrity"].startswith("sha512-") and data["build"]["binary_sha256"] == "ab" * 32
    assert data["outcome"]["artifacts"] is None  # no host path of this machine
    back = read_bundle(path)
    assert back.cell == CELL and back.build == bundle.build and back.k_expr == "grammar"
    assert back.image == bundle.image and back.timeouts == bundle.timeouts and back.harness == bundle.harness
    assert back.scenarios["ok"]["argv"] == ["codex", "exec", "--json"]
    assert compare(back.result, result) == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_compare_names_every_difference() -> None:
    was = _result({"test_a[ok]": "pass", "test_b[tool]": "pass", "test_c[ok]": "pass"})
    now = _result({"test_a[ok]": "pass", "test_b[tool]": "fail", "test_d[ok]": "pass"})
    assert compare(was, now) == ["cell status: pass → fail", "test_b[tool]: pass → fail",
                                 "test_c[ok]: pass → not run", "test_d[ok]: not run → pass"]
    assert describe(now).startswith("fail (expected native): 3 tests, 2 pass, 1 fail\n  test_b[tool]: fail: boom")


def test_a_different_build_is_refused() -> None:
    identity = BuildIdentity.of(_build())
    identity.check(_build())
    with pytest.raises(UserError, match="changed the package"):
        identity.check(_build(integrity="sha512-" + "B" * 86 + "=="))
    with pytest.raises(UserError, match="binary has sha256"):
        identity.check(_build(sha256="ef" * 32))


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "does not exist"),
    ("[]", "is not a repro bundle"),
    ('{"kind": "codex-matrix-repro", "schema": 99, "harness": {"version": "9.0"}}', "schema 99"),
    ('{"kind": "codex-matrix-repro", "schema": 1}', "cell: Field required"),
])
def test_unreadable_bundles(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "x.repro.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError) as err:
        read_bundle(path)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_shell_command_names_the_key_variable_never_the_key() -> None:
    env = {"PATH": "/usr/bin", "HOME": "/var/tmp/cnm/shell", "CODEX_API_KEY": SECRET}
    text = render_command(["/usr/local/bin/codex", "exec", "--json", "-c", 'sandbox_mode="danger-full-access"', "--",
                           "Reply only with OK"], env, SECRET)
    assert SECRET not in text
    assert text == ("env -i PATH=/usr/bin HOME=/var/tmp/cnm/shell CODEX_API_KEY=\"$CNM_FAKE_KEY\" "
                    "/usr/local/bin/codex exec --json -c 'sandbox_mode=\"danger-full-access\"' -- "
                    "'Reply only with OK' </dev/null")


def test_shell_exec_is_interactive_only_on_a_terminal() -> None:
    plain = exec_argv("cnm-shell-x", CELL, "ok", tty=False)
    assert plain[:3] == ["docker", "exec", "-i"] and "-t" not in plain
    assert plain[-4:-2] == ["-m", "harness.suite.shell"] and json.loads(plain[-2]) == CELL.to_json()
    assert plain[-1] == "ok" and "cnm-shell-x" in plain
    assert exec_argv("cnm-shell-x", CELL, "ok", tty=True)[:4] == ["docker", "exec", "-i", "-t"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["repro"], "name a CELL_ID to reproduce, or --bundle FILE"),
    (["repro", CELL.id, "--bundle", "x.json"], "name a CELL_ID to reproduce, or --bundle FILE"),
    (["repro", "codex0.117.0-nobody-ephemeral"], "--cells: no cell 'codex0.117.0-nobody-ephemeral'"),
    (["repro", "0.117.0"], "is not a cell id"),
    (["repro", CELL.id, "--scenario", "explode"], "--scenarios: unknown value 'explode'"),
    (["repro", "--bundle", "missing.repro.json"], "missing.repro.json does not exist"),
    (["repro", "--bundle", "x.json", "--shell"], "drop --shell/--scenario/-k"),
])
def test_bad_repro_input_is_one_line_exit_2_nothing_written(args: list[str], fragment: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(args) == 2
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and fragment in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
