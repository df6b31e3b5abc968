"""Findings 1-5: the out dir of a careless user or a harsh CI, and selections that select nothing.

Real ``codex-matrix run`` processes against real containers (0.117.0, one cell), except where the
fault must show before any Docker work.
"""

from __future__ import annotations

import json
import signal
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import SMALL, assert_one_line_error, cli, start_cli, wait_for

REPORTS = ("results.json", "junit.xml", "report.md")


def tree(root: Path) -> list[tuple[str, bytes]]:
    return sorted((p.relative_to(root).as_posix(), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*"))


def test_a_photo_folder_passed_as_out_is_refused_untouched(tmp_path: Path) -> None:
    """Finding 1: `run --out U` deleted U/raw recursively (a photo was gone) and overwrote U's reports."""
    photos = tmp_path / "U"
    (photos / "raw" / "2024").mkdir(parents=True)
    (photos / "raw" / "2024" / "IMG.CR2").write_bytes(b"\x49\x49\x2a\x00 a raw photo")
    (photos / "report.md").write_text("my own report")
    before = tree(photos)
    proc = cli("run", *SMALL, "--out", str(photos))
    assert_one_line_error(proc, "was not written by codex-matrix")
    assert tree(photos) == before


@pytest.mark.parametrize("flag", ["--versions", "--credentials", "--policies", "--scenarios", "--cells"])
@pytest.mark.parametrize("value", ["", " , ,"])
def test_an_empty_selection_is_an_error_not_the_whole_matrix(tmp_path: Path, flag: str, value: str) -> None:
    """Finding 5: `--versions ''` (an unset CI variable) selected everything and started the full matrix."""
    out = tmp_path / "out"
    proc = cli("run", flag, value, "--out", str(out), timeout=60)
    assert_one_line_error(proc, f"{flag} is empty")
    assert not out.exists()


def test_a_read_only_out_dir_fails_before_any_image_work(tmpfs) -> None:  # type: ignore[no-untyped-def]
    """Finding 3: a read-only --out gave a traceback after the images were prepared."""
    ro = tmpfs("64k", ro=True)
    for out in (ro, ro / "sub"):
        proc = cli("run", *SMALL, "--out", str(out), timeout=60)
        assert_one_line_error(proc, "Read-only file system")
        assert "preparing images" not in proc.stderr


def test_an_out_path_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "results"
    a_file.write_text("not a directory")
    assert_one_line_error(cli("run", *SMALL, "--out", str(a_file), timeout=60), "not a directory")
    assert_one_line_error(cli("run", *SMALL, "--out", str(a_file / "out"), timeout=60), "Not a directory")


@pytest.mark.integration
def test_an_out_path_with_a_colon_works(docker_client: Any, tmp_path: Path) -> None:
    """Finding 3: a path with ':' failed inside docker's 'src:dst:mode' volume syntax."""
    out = tmp_path / "ci:job 7" / "out"
    proc = cli("run", *SMALL, "--scenarios", "ok", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    [cell] = json.loads((out / "results.json").read_text())["cells"]
    assert cell["status"] == "pass" and cell["artifacts"].startswith(str(out / "raw"))


def _previous_run(out: Path) -> None:
    """What an earlier, all-green run left in ``out``: reports that must not survive a later run."""
    assert cli("run", *SMALL, "--scenarios", "ok", "--out", str(out)).returncode == 0
    for name in REPORTS:
        assert (out / name).is_file()


@pytest.mark.integration
def test_a_full_out_dir_never_reports_a_pass_nor_keeps_old_reports(docker_client: Any, tmpfs,  # type: ignore[no-untyped-def]
                                                                   containers_of: Any) -> None:
    """Finding 3: on a 256 KB out dir the console said "1/1 cells met" though the suite's files could not
    be written, results were lost in a traceback, a 0-byte results.json.tmp was left, and the previous
    run's "every cell met its expectation" stayed next to the new raw/."""
    out = tmpfs("256k")
    _previous_run(out)
    proc = start_cli("run", *SMALL, "--out", str(out), "--keep", "never")
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode in (1, 2), output[-3000:]
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]
    assert "every cell met its expectation" not in output and "1/1 cells met" not in output, output[-3000:]
    if proc.returncode == 2:
        errors = [line for line in output.splitlines() if line.startswith("codex-matrix: error: ")]
        assert len(errors) == 1 and "No space left on device" in errors[0], output[-3000:]
    else:  # the reports fit: they say what happened
        [cell] = json.loads((out / "results.json").read_text())["cells"]
        assert cell["status"] == "error" and "could not take" in cell["message"]
    report = (out / "report.md").read_text() if (out / "report.md").exists() else ""
    assert "every cell met its expectation" not in report
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".reports-")]
    assert leftovers == []
    assert containers_of(proc.pid) == []


@pytest.mark.integration
def test_a_second_run_on_the_same_out_dir_is_refused_with_the_holder(docker_client: Any, tmp_path: Path) -> None:
    """Finding 2: two runs on one --out gave false errors or FileExistsError, reports from whichever wrote
    last, and the second run's cleanup deleted the directory mounted into the first run's container."""
    out = tmp_path / "out"
    # `hang` holds the first run for the whole hang timeout (matrix.yaml hang_s, 10 s): without it the
    # first run could finish before the second tries (a run of ok/tool/unauthorized takes ~3 s now)
    first = start_cli("run", *SMALL, "--scenarios", "ok,tool,hang", "--out", str(out))
    try:
        marker = out / ".codex-matrix-out.json"
        wait_for(lambda: marker.is_file() and f'"pid": {first.pid}' in marker.read_text(), 60,
                 "the first run to claim the out dir", first)
        for _ in range(2):
            assert first.poll() is None, "the first run ended before the second could try: nothing was tested"
            second = cli("run", *SMALL, "--scenarios", "ok", "--out", str(out), timeout=120)
            line = assert_one_line_error(second, "is in use by another codex-matrix run")
            assert f"pid {first.pid} on " in line and "started " in line
        output, _ = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, output[-3000:]
    [cell] = json.loads((out / "results.json").read_text())["cells"]
    assert cell["status"] == "pass" and len(cell["tests"]) == cell["planned"]


@pytest.mark.integration
def test_any_number_of_ctrl_c_still_writes_every_report(docker_client: Any, tmp_path: Path,
                                                        containers_of: Any) -> None:
    """Finding 4: a second Ctrl-C 50 ms after the first lost results.json, junit.xml and report.md."""
    out = tmp_path / "out"
    proc = start_cli("run", *SMALL, "--out", str(out), "--keep", "never")
    try:
        wait_for(lambda: any(p.stat().st_size > 0 for p in out.glob(".live/*/*/suite-log.jsonl")), 300,
                 "the contract suite to start", proc)
        signals = 0
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            proc.send_signal(signal.SIGINT if signals % 3 else signal.SIGTERM)
            signals += 1
            time.sleep(0.05)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert signals >= 2
    assert proc.returncode == 130, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["interrupted"] is True and results["cells"]
    ET.parse(out / "junit.xml")
    assert "interrupted" in (out / "report.md").read_text().lower()
    assert [p.name for p in out.iterdir() if p.name.startswith(".reports-")] == []
    assert containers_of(proc.pid) == []


def test_a_run_that_never_starts_leaves_no_new_out_dir(tmp_path: Path) -> None:
    """The out dir is claimed before the daemon is asked; a run that ends there (no daemon) removes the
    directory it created (nothing leaked)."""
    out = tmp_path / "out"
    proc = start_cli("run", *SMALL, "--out", str(out), env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "no Docker daemon answers" in output
    assert not out.exists()

