"""Issue 27: shards, repro bundles, bisect.jsonl and atlas.jsonl from a careless hand or a hostile one never
cost more than one clear line, and never read or write outside the files and the dir a command was given.

The fuzzer (:mod:`tests.faults.data_fuzz`) runs in a child process under a memory limit, over real-shaped
files made by the project's own writers and the hand-made hostile cases of the issue, with a sentinel tree
standing for the host's own files; this test asserts on its report. ``CODEX_MATRIX_DATA_FUZZ_EXAMPLES``
changes the number of mutants (2,000 by default, 500 of each kind: 26 s on a 2-core machine at load 8).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.faults.conftest import TARGET

MEMORY_LIMIT = 2 << 30
EXAMPLES = int(os.environ.get("CODEX_MATRIX_DATA_FUZZ_EXAMPLES", "2000"))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_fuzzed_data_files_give_one_short_line_and_stay_inside_their_dirs(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(TARGET), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = Path(__file__).with_name("data_fuzz.py")  # by path: `harness` comes from the target checkout
    proc = subprocess.run(
        [sys.executable, str(script), "--examples", str(EXAMPLES), "--report", str(report_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, preexec_fn=_limit_memory, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(report_path.read_text())
    summary = {k: v for k, v in report.items() if k not in ("tracebacks", "bad_errors", "longest_error_line")}
    print(json.dumps(summary, indent=1), len(report["longest_error_line"]))  # shown with -rP
    assert report["mutants"] >= EXAMPLES and report["hand_made"] >= 60
    assert all(n >= EXAMPLES // 4 for n in report["inputs"].values()), report["inputs"]
    assert report["traceback_count"] == 0, "\n\n".join(report["tracebacks"])
    assert report["sentinel_reads"] == [], report["sentinel_reads"]  # 0 files read outside the inputs
    assert report["leaks"] == [], report["leaks"]  # nothing of the host's files in any output
    assert report["stray_writes"] == [], report["stray_writes"]  # 0 files written outside --out
    assert report["bad_error_count"] == 0, report["bad_errors"]  # every error one line under 300 characters
    assert len(report["longest_error_line"]) < 300, report["longest_error_line"]
    assert set(report["codes"]) <= {"0", "1", "2"}, report["codes"]
    assert report["codes"].get("2", 0) > report["total"] // 2  # most mutants are refused, not run
