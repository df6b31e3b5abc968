"""Stopping a real run (a cancelled CI job's SIGTERM, or Ctrl-C) removes its containers at once and
still writes the reports, with the unfinished cells as errors, and exits 130.

0.20.0 is the slowest build per cell (its error scenarios run into the lane's timeout), so the suite
is surely still running when the signal arrives.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_sigterm_removes_containers_and_writes_reports(tmp_path: Path,
                                                       run_containers: Callable[..., list[Any]]) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--versions", "0.20.0", "--credentials", "codex-api-key",
         "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 600  # a cold machine fetches the build and bootstraps the base first
        while not [c for c in run_containers(proc.pid) if c.status == "running"]:
            assert proc.poll() is None, f"the run ended before its container started:\n{proc.stdout.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no run container started"
            time.sleep(0.5)
        time.sleep(2)  # the contract suite is running inside now
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        stopped_s = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output
    assert stopped_s < 30, f"took {stopped_s:.0f} s to stop"
    assert [c.name for c in run_containers(proc.pid)] == []  # this run's only: others may share the daemon
    results = json.loads((out / "results.json").read_text())
    assert results["interrupted"] is True
    assert {c["status"] for c in results["cells"]} == {"error"}
    assert all(c["message"].startswith("the run was interrupted") for c in results["cells"])
    assert "interrupted" in (out / "report.md").read_text().lower()
    assert "interrupted: 2 cells did not finish" in output
