"""The suite's scheduling: which lane runs wait, how many compute at once, and that waits never hold workers."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.matrix import Selection, load_matrix, select
from harness.suite.protocol import CellSpec, SuiteTimeouts
from harness.suite.schedule import (
    RUN_MEMORY_BYTES,
    LanePools,
    MachineSlots,
    _cgroup_cpu_quota,
    available_memory,
    compute_workers,
    lay_out_slots,
    slots_from_env,
    workers_from_env,
)
from harness.suite.waits import ends_by_timeout, timeout_for

SCENARIOS = ("ok", "tool", "unauthorized", "server-error", "hang")


def cell(version: str, credential: str, policy: str, expect: str) -> CellSpec:
    return CellSpec(version, credential, policy, SCENARIOS, expect)


@pytest.mark.parametrize(("spec", "scenario", "waits"), [
    (cell("0.117.0", "codex-api-key", "ephemeral", "native"), "hang", True),
    (cell("0.117.0", "codex-api-key", "ephemeral", "native"), "ok", False),
    (cell("0.117.0", "codex-api-key", "ephemeral", "native"), "server-error", False),
    # the fake API refuses a missing or invalid key before it hangs: the run fails at once
    (cell("0.117.0", "none", "persistent", "auth-required"), "hang", False),
    (cell("0.169.0", "invalid-key", "ephemeral", "auth-rejected"), "hang", False),
    # builds without --ephemeral refuse an ephemeral run before codex starts: nothing waits
    (cell("0.44.0", "codex-api-key", "ephemeral", "ephemeral-unsupported"), "hang", False),
    (cell("0.20.0", "codex-api-key", "ephemeral", "legacy-fallback"), "hang", False),
    # 0.20.x never exits after an error: every scenario it cannot complete waits for the timeout
    (cell("0.20.0", "codex-api-key", "persistent", "legacy-fallback"), "ok", False),
    (cell("0.20.0", "codex-api-key", "persistent", "legacy-fallback"), "server-error", True),
    (cell("0.20.0", "codex-api-key", "persistent", "legacy-fallback"), "unauthorized", True),
    (cell("0.20.0", "none", "persistent", "legacy-fallback"), "ok", True),
    (cell("0.20.0", "invalid-key", "persistent", "legacy-fallback"), "tool", True),
    # from 0.21 legacy builds exit after an error; only a request never answered waits
    (cell("0.30.0", "codex-api-key", "persistent", "legacy-fallback"), "server-error", False),
    (cell("0.30.0", "codex-api-key", "persistent", "legacy-fallback"), "hang", True),
    (cell("0.30.0", "none", "persistent", "legacy-fallback"), "hang", False),
])
def test_ends_by_timeout(spec: CellSpec, scenario: str, waits: bool) -> None:
    assert ends_by_timeout(spec, scenario) is waits


def test_a_waiting_run_is_always_one_with_the_short_timeout() -> None:
    """The split only moves runs that end by the hang timeout; no timeout changes (same verdicts)."""
    timeouts = SuiteTimeouts(codex_s=45.0, hang_s=6.0)
    cells = select(load_matrix(), Selection())
    waiting = [(c, s) for c in cells for s in c.scenarios if ends_by_timeout(c, s)]
    assert waiting, "the default matrix has hang runs"
    assert all(timeout_for(c, s, timeouts) == timeouts.hang_s for c, s in waiting)
    assert {s for _, s in waiting} > {"hang"}, "the legacy build's error scenarios wait too"


@pytest.mark.parametrize(("cores", "containers", "memory", "want"), [
    (2, 2, None, 3),  # this machine: -j 2 on 2 cores
    (2, 1, None, 6),
    (16, 8, None, 6),
    (16, 1, 1 << 30, 3),  # 1 GB: memory caps it
    (1, 8, None, 1),
    (4, 2, 0, 1),  # never below one
])
def test_compute_workers(cores: int, containers: int, memory: int | None, want: int) -> None:
    assert compute_workers(cores, containers, memory) == want


def test_workers_from_env_prefers_the_user_then_sizes_from_the_machine() -> None:
    assert workers_from_env({"W": "7", "J": "2"}, "W", "J") == 7
    sized = workers_from_env({"J": "2"}, "W", "J")
    assert sized == workers_from_env({"W": "zero", "J": "2"}, "W", "J") >= 1
    assert workers_from_env({"J": "1"}, "W", "J") >= sized  # fewer containers share the cores: no fewer each


def test_available_memory_takes_the_lower_of_meminfo_and_the_cgroup_limit(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 16000000 kB\nMemAvailable:    8000000 kB\n")
    cgroup = tmp_path / "cg"
    (cgroup / "memory").mkdir(parents=True)
    (cgroup / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1: no limit
    assert available_memory(meminfo, cgroup) == 8000000 * 1024
    (cgroup / "memory.max").write_text(f"{2 * RUN_MEMORY_BYTES}\n")
    assert available_memory(meminfo, cgroup) == 2 * RUN_MEMORY_BYTES
    assert available_memory(tmp_path / "missing", tmp_path / "none") is None


def test_cgroup_cpu_quota(tmp_path: Path) -> None:
    assert _cgroup_cpu_quota(tmp_path) is None
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _cgroup_cpu_quota(tmp_path) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _cgroup_cpu_quota(tmp_path) == 1.5


def test_waiting_runs_never_hold_compute_workers() -> None:
    """One compute worker, busy until the end: every waiting run still starts and finishes meanwhile."""
    pools = LanePools(workers=1, waiting=3)
    release = threading.Event()
    together = threading.Barrier(3, timeout=5)
    try:
        busy = pools.submit(release.wait, 10, waits=False)
        waits = [pools.submit(together.wait, waits=True) for _ in range(3)]
        assert sorted(w.result(timeout=5) for w in waits) == [0, 1, 2]  # all three were in flight at once
        assert not busy.done()
    finally:
        release.set()
        pools.shutdown()


def test_compute_runs_are_limited_to_the_workers() -> None:
    pools = LanePools(workers=2, waiting=0)
    lock = threading.Lock()
    running, peak = [0], [0]

    def work() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    try:
        for future in [pools.submit(work, waits=False) for _ in range(6)]:
            future.result(timeout=5)
    finally:
        pools.shutdown()
    assert peak[0] == 2


HOLDER = """
import sys, time
from pathlib import Path
from harness.suite.schedule import MachineSlots
slots = MachineSlots(Path(sys.argv[1]))


def run():
    start = time.time()
    time.sleep(0.15)
    return start, time.time()


for _ in range(3):
    print(*slots.hold(run), flush=True)
"""


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_machine_slots_bound_runs_across_processes(tmp_path: Path) -> None:
    """Three processes (as three containers would) share two slots: never more than two runs at once,
    and a slot freed by one process is taken by another (the budget is the machine's, not a share)."""
    lay_out_slots(tmp_path / "slots", 2)
    procs = [subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "slots")], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[2]) for _ in range(3)]
    spans = []
    for proc in procs:
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        spans += [(float(a), float(b)) for a, b in (line.split() for line in out.splitlines())]
    assert len(spans) == 9
    assert _most_at_once(spans) == 2
    # 9 runs of 0.15 s on 2 slots: at least 5 rounds, however the processes interleave
    assert max(e for _, e in spans) - min(s for s, _ in spans) >= 0.7


def test_a_dead_holder_frees_its_slot(tmp_path: Path) -> None:
    lay_out_slots(tmp_path, 1)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER.replace("0.15", "30"), str(tmp_path)],
                              cwd=Path(__file__).resolve().parents[2])
    slots = MachineSlots(tmp_path)
    deadline = time.monotonic() + 10
    while holder.poll() is None and time.monotonic() < deadline:  # wait until the holder has the slot
        fd = os.open(slots.paths[0], os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            break
        finally:
            os.close(fd)
        time.sleep(0.02)
    holder.kill()
    holder.wait()
    t0 = time.monotonic()
    assert slots.hold(lambda: "ran") == "ran"
    assert time.monotonic() - t0 < 1.0


def test_slots_only_when_mounted_and_the_user_did_not_fix_the_workers(tmp_path: Path) -> None:
    lay_out_slots(tmp_path, 3)
    found = slots_from_env({"S": str(tmp_path)}, "S", "W")
    assert found is not None and len(found.paths) == 3
    assert LanePools(workers=1, waiting=0, slots=found).workers == 3  # the machine's budget
    assert slots_from_env({"S": str(tmp_path), "W": "2"}, "S", "W") is None
    assert slots_from_env({"S": str(tmp_path / "absent")}, "S", "W") is None
    assert slots_from_env({}, "S", "W") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert slots_from_env({"S": str(empty)}, "S", "W") is None
