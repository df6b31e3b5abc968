"""Finding 10: matrix.yaml from a careless hand or a hostile one never costs more than one clear line.

The fuzzer (:mod:`tests.faults.matrix_fuzz`) runs in a child process whose address space is capped
with ``resource.setrlimit`` (a billion-laughs file took 2.5 GB, ``--matrix /dev/zero`` ran into the
kernel's OOM killer at 24 GB), so a regression fails this test instead of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.conftest import TARGET, assert_one_line_error, cli

MEMORY_LIMIT = 2 << 30  # address space of the child; peak RSS must stay far below, see the assertion
EXAMPLES = int(os.environ.get("CODEX_MATRIX_FUZZ_EXAMPLES", "1000"))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.mark.slow
def test_fuzzed_matrix_files_give_one_short_line_and_no_traceback(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(TARGET), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = Path(__file__).with_name("matrix_fuzz.py")  # by path: `harness` comes from the target checkout
    proc = subprocess.run(
        [sys.executable, str(script), "--examples", str(EXAMPLES), "--report", str(report_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, preexec_fn=_limit_memory, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(report_path.read_text())
    summary = {k: v for k, v in report.items() if k not in ("tracebacks", "longest_error_line")}
    print(json.dumps(summary, indent=1), len(report["longest_error_line"]))  # shown with -rP
    assert report["inputs"] >= EXAMPLES + 50
    assert report["traceback_count"] == 0, "\n\n".join(report["tracebacks"])
    assert report["multiline"] == [], report["multiline"]
    assert len(report["longest_error_line"]) <= 300, report["longest_error_line"][:400] + "…"
    assert report["peak_rss_mb"] < 500, report["peak_rss_mb"]
    assert set(report["codes"]) <= {"0", "2"}, report["codes"]


@pytest.mark.parametrize(("text", "fragment"), [
    ("versions: [0.117.0]\nversions: [0.20.0]\n", "duplicate key 'versions'"),
    ("versions: [0.117.0]\ntimeouts: {container_s: .inf}\n", "finite number of seconds"),
    ("versions: [0.117.0]\ntimeouts: {container_s: 1e12}\n", "finite number of seconds"),
    ("versions: [0.117.0]\ntimeouts: {container_s: 1.0e+12}\n", "less than or equal to 86400"),
    ("versions: [0.117.0]\ntimeouts: {container_s: true}\n", "finite number of seconds"),
    ("versions: [!!int 0.117.0]\n", "a value cannot be read"),
    ("versions: [0.117.0]\ntimeouts: {container_s: " + "9" * 5000 + "}\n", "a value cannot be read"),
])
def test_each_reported_matrix_fault_is_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    assert_one_line_error(cli("list", "--matrix", str(path)), fragment)


def test_a_deleted_when_line_is_not_silently_accepted(tmp_path: Path) -> None:
    """Deleting one `- when:` line made two rules one, silently changing 26 cells' expectations."""
    default = (TARGET / "matrix.yaml").read_text()
    path = tmp_path / "matrix.yaml"
    path.write_text(default.replace("  - when:", "  -", 1))
    proc = cli("list", "--matrix", str(path))
    assert proc.returncode == 2, proc.stdout[:500]
    assert_one_line_error(proc, str(path))


def test_dev_zero_is_refused_fast_and_small(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness", "list", "--matrix", "/dev/zero"], cwd=TARGET,
                          env={**os.environ, "PYTHONPATH": str(TARGET)}, capture_output=True, text=True,
                          timeout=60, preexec_fn=_limit_memory, check=False)
    assert_one_line_error(proc, "larger than")
