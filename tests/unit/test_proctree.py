"""The seam's process-tree lookup: descendants through parent links, and the groups they are in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.lane.proctree import descendant_groups, descendants, process_table, session_groups

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def test_table_and_descendants_of_a_synthetic_tree() -> None:
    table = {10: (1, 10, 10), 11: (10, 10, 10), 12: (11, 12, 10), 13: (12, 12, 10), 20: (1, 20, 20)}
    assert descendants(10, table) == {11, 12, 13}
    assert descendants(20, table) == set()


def test_a_grandchild_in_a_new_session_is_found_with_its_group(tmp_path: Path) -> None:
    """As codex does with a tool command: the shell gets its own group, its child stays in it."""
    pids = tmp_path / "pids"
    script = f"import os, subprocess, time; p = subprocess.Popen(['sleep', '30'], start_new_session=True); " \
             f"open({str(pids)!r}, 'w').write(str(p.pid)); time.sleep(30)"
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not pids.exists() or not pids.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        grandchild = int(pids.read_text())
        assert leader.pid in process_table()
        groups = descendant_groups(leader.pid)
        assert grandchild in groups and leader.pid not in groups
        os.killpg(grandchild, signal.SIGKILL)
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()


def test_seam_timeout_kills_a_tool_command_in_its_own_session(tmp_path: Path) -> None:
    """codex runs each tool command in a group of its own (measured on 0.117.0 and 0.169.0): the seam's
    timeout must reach it and its child, not only codex's group."""
    from harness.lane.credentials import Credential
    from harness.lane.executable import Executable
    from harness.lane.probe import Capabilities
    from harness.lane.seam import SeamRequest, run_seam

    pids = tmp_path / "pids"
    fake = tmp_path / "codex"
    fake.write_text(f"#!/bin/sh\nsetsid sh -c 'sleep 300 & echo $$ $! > {pids}; wait' &\nsleep 300\n")
    fake.chmod(0o755)
    (tmp_path / "work").mkdir()
    caps = Capabilities(flags=("--json", "--skip-git-repo-check", "--cd", "--ephemeral"), protocol="thread-events",
                        supports_ephemeral=True)
    result = run_seam(SeamRequest(
        executable=Executable(str(fake), "explicit", "codex-cli 0.169.0", "0.169.0"), prompt="p",
        cwd=tmp_path / "work", policy="persistent", codex_home=tmp_path / "home", capabilities=caps,
        credential=Credential(source="none", origin=None), timeout_s=0.5))
    assert result.timed_out and result.pid is not None
    shell, child = (int(p) for p in pids.read_text().split())
    deadline = time.monotonic() + 3
    while not all(_gone(p) for p in (shell, child)):
        assert time.monotonic() < deadline, f"the tool command's processes outlived the timeout: {shell} {child}"
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_session_groups_find_a_group_whose_parent_is_gone() -> None:
    """A process in a group of its own, re-parented to init, is still found through its session."""
    script = ("import os, subprocess, sys; p = subprocess.Popen(['sleep', '30'], preexec_fn=lambda: os.setpgid(0, 0)); "
              "print(p.pid, flush=True)")
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stdout=subprocess.PIPE)
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    leader.wait()
    try:
        assert child not in descendants(leader.pid)
        assert os.getpgid(child) == child and os.getsid(child) == leader.pid
        assert child in session_groups(leader.pid)
    finally:
        os.kill(child, 9)
