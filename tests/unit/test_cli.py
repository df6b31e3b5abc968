"""Bad input on the command line: one line naming the problem and the fix, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--credentials", "nobody"], "--credentials: unknown value 'nobody'"),
        (["run", "--policies", "forever"], "--policies: unknown value 'forever'"),
        (["run", "--versions", "0.117"], "'0.117' is not an X.Y.Z version"),
        (["run", "--scenarios", "explode"], "--scenarios: unknown value 'explode'"),
        (["run", "--jobs", "0"], "--jobs and --workers take a whole number of at least 1"),
        (["list", "--matrix", "/nonexistent/matrix.yaml"], "cannot read /nonexistent/matrix.yaml"),
        (["lane", "run", "--prompt", "hi", "--fake-api", "ok", "--codex", "0.117.0"],
         "--codex 0.117.0 is not an executable file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, *(["--out", str(tmp_path / "out")] if args[0] == "run" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codex-matrix: error: ") and fragment in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_no_docker_daemon_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    assert main(["run", "--versions", "0.117.0", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no Docker daemon answers" in err and "dockerd" in err


def test_list_and_run_take_values_matrix_yaml_leaves_out(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`run --scenarios tool-race --versions 0.130.0` once failed with "the selection matches no cell"
    while matrix.yaml left tool-race out; a sandbox mode outside the default selection is the same case."""
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text("versions: [0.117.0]\ncredentials: [none]\npolicies: [persistent]\nscenarios: [ok]\n"
                      "xfail:\n  - {when: {versions: '>=0.117,<0.146', scenarios: [tool-race]}, reason: race}\n",
                      encoding="utf-8")
    assert main(["list", "--matrix", str(matrix), "--scenarios", "tool-race", "--versions", "0.130.0",
                 "--credentials", "codex-api-key", "--sandboxes", "read-only", "--format", "json"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["scenarios"]) for c in cells] == [
        ("codex0.130.0-codex-api-key-persistent-read-only", ["tool-race"])]
    assert all("tool-race" in c["known"] for c in cells)  # the file's rules apply to what was added


def test_list_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--versions", "0.117.0,0.169.0", "--credentials", "none", "--policies", "persistent"]) == 0
    assert capsys.readouterr().out.split() == ["codex0.117.0-none-persistent", "codex0.169.0-none-persistent"]
    assert main(["list", "--format", "tox"]) == 0
    assert capsys.readouterr().out.split()[0] == "codex0.20.0"
    assert main(["list", "--format", "github", "--versions", "0.117.0"]) == 0
    assert capsys.readouterr().out.strip() == '{"include": [{"version": "0.117.0"}]}'


@pytest.mark.parametrize("value", ["", " , ,", ","])
def test_empty_selection_is_an_error_not_everything(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--versions", value]) == 2
    assert "--versions is empty" in capsys.readouterr().err


def test_internal_error_exits_3_with_the_traceback_under_the_out_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import harness.cli.common as common
    from harness.outdir import write_marker
    from harness.owner import Owner

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the harness")

    monkeypatch.setattr(common, "daemon", broken)
    out = tmp_path / "out"
    out.mkdir()
    write_marker(out, Owner.current("run"))  # an out dir of an earlier run
    assert main(["run", "--versions", "0.117.0", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (RuntimeError: a bug in the harness)" in err
    [saved] = out.glob("codex-matrix-crash-*.txt")
    assert str(saved) in err and "Traceback" in saved.read_text() and "a bug in the harness" in saved.read_text()


def test_internal_error_never_writes_into_a_directory_that_is_not_an_out_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import harness.cli.invocation as invocation

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the harness")

    monkeypatch.setattr(invocation, "load_matrix", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "photos"
    out.mkdir()
    (out / "IMG.CR2").write_bytes(b"x")
    assert main(["run", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["IMG.CR2"]
    [saved] = (tmp_path / "cache").rglob("codex-matrix-crash-*.txt")
    assert str(saved) in err


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(f"{sys.executable} -m harness list --format json | head -c 10 >/dev/null",
                          shell=True, capture_output=True, text=True, check=False)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_version_and_help_teach_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("codex-matrix ")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "130  interrupted" in capsys.readouterr().out
