"""A container cut short by its budget is never green in junit.xml: every planned test that never
reported is an error there (0.20.0's error scenarios hang until the lane's timeout, so a 4 s container
budget surely ends the suite first)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.assets import packaged_matrix_path

ROOT = Path(__file__).resolve().parents[2]


def test_a_timed_out_container_shows_errors_in_junit(tmp_path: Path, docker_client: object) -> None:
    matrix = tmp_path / "matrix.yaml"
    text = packaged_matrix_path().read_text(encoding="utf-8")
    matrix.write_text(text.replace("container_s: 1800", "container_s: 4"), encoding="utf-8")
    assert "container_s: 4" in matrix.read_text()
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--matrix", str(matrix), "--versions", "0.20.0",
         "--credentials", "codex-api-key", "--policies", "persistent", "--out", str(out), "--keep", "never"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr[-2000:]
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert int(suite.get("errors", "0")) + int(suite.get("failures", "0")) >= 1
    assert suite.findall("testcase/error"), "the cut-short cell has no <error> in junit.xml"
    status = {p.get("name"): p.get("value") for p in suite.iter("property")}.get("status")
    assert status == "timeout"
