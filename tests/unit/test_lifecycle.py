"""Signals, container lifetimes and orphans, without Docker: fake containers stand in for docker-py's."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from harness import labels
from harness.images.prune import prune
from harness.interrupts import StopRequests, command_signals, deferred
from harness.matrix import Timeouts
from harness.orphans import find, reap
from harness.owner import Owner
from harness.run.container_spec import KEEP_MARK, KEPT_LIFETIME_S, lifetime_command, lifetime_s, suite_command
from harness.run.harvest import JobEnd, harvest
from harness.run.plan import RunOptions
from harness.suite.protocol import CellSpec


def test_repeated_signals_only_set_the_stop_flag() -> None:
    seen: list[int] = []
    with StopRequests(note=seen.append) as stop:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT, signal.SIGINT):
            os.kill(os.getpid(), sig)
            time.sleep(0.01)
        assert stop.requested and stop.count == 4 and seen == [1, 2, 3, 4]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_deferred_holds_signals_until_the_cleanup_is_done() -> None:
    done = []
    with command_signals(), pytest.raises(KeyboardInterrupt), deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        done.append("cleanup finished")
    assert done == ["cleanup finished"]


def test_sigterm_is_ctrl_c_for_every_command_and_only_the_first_counts() -> None:
    cleaned = []
    with command_signals():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGINT)  # during cleanup: ignored
        time.sleep(0.05)
        cleaned.append(True)
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _options(container_s: float) -> RunOptions:
    return RunOptions(out_dir=Path("out"), timeouts=Timeouts(container_s=container_s))


def test_a_container_lives_to_its_deadline_and_longer_only_when_kept(tmp_path: Path) -> None:
    options = _options(10.5)
    assert lifetime_s(options) == 11 + 60
    command = lifetime_command(options)
    assert command[:2] == ["sh", "-c"] and "infinity" not in " ".join(command)
    mark = tmp_path / "kept"
    script = [*command[:4], "0.2", "0.8", str(mark)]  # the same script with short sleeps, run here
    started = time.monotonic()
    subprocess.run(script, check=True)
    assert time.monotonic() - started < 0.7  # not kept: ends at the deadline
    mark.touch()
    started = time.monotonic()
    subprocess.run(script, check=True)
    assert time.monotonic() - started >= 1.0  # kept: sleeps on, but not forever
    assert command[-1] == KEEP_MARK and command[-2] == str(KEPT_LIFETIME_S)


def test_a_sub_second_budget_is_not_timeout_zero() -> None:
    assert suite_command(_options(0.5))[:4] == ["timeout", "-k", "15", "1"]


def test_a_mounted_build_is_linked_as_codex_before_the_suite(tmp_path: Path) -> None:
    """The link step, run here with the link's path and the suite swapped for a local file and `cat`:
    the link points at the mounted binary, a second run replaces it, and the suite's argv is untouched."""
    from harness.run.plan import MountedBuild

    mounted = MountedBuild("0.131.0", tmp_path / "tree", "bin/codex")
    command = suite_command(_options(5), mounted)
    suite = suite_command(_options(5))
    assert command[:3] == ["sh", "-c", command[2]] and command[-len(suite):] == suite
    assert command[4:6] == ["/opt/codex/0.131.0/bin/codex", "/usr/local/bin/codex"]
    binary = tmp_path / "codex-real"
    binary.write_text("the build\n")
    link = tmp_path / "codex"
    for _ in range(2):  # a kept container entered twice
        done = subprocess.run([*command[:4], str(binary), str(link), "cat", str(link)], capture_output=True,
                              text=True, check=True)
        assert done.stdout == "the build\n"
    assert link.is_symlink() and link.resolve() == binary


def test_an_out_dir_that_could_not_take_the_files_is_never_a_pass(tmp_path: Path) -> None:
    cell = CellSpec("0.117.0", "none", "persistent", ("ok",), "native", "")
    [result] = harvest([cell], tmp_path, JobEnd(exit_code=0, io_error="the out dir could not take it"))
    assert result.status == "error" and result.message.startswith("the out dir could not take it")


class FakeContainer:
    def __init__(self, name: str, owner: Owner | None, status: str = "running",
                 processes: list[list[str]] | None = None, kind: str = "run") -> None:
        self.name = name
        self.id = self.short_id = name
        self.status = status
        self.labels = {labels.MANAGED: "true", labels.KIND: kind}
        if owner is not None:
            self.labels.update({labels.OWNER_HOST: owner.host, labels.OWNER_PID: str(owner.pid),
                                labels.OWNER_START: owner.start, labels.OWNER_INSTANCE: owner.instance,
                                labels.OWNER_STARTED: owner.started})
        self.processes = processes if processes is not None else [["root", "1", "sleep 70"]]
        self.removed = False

    def remove(self, **kwargs: Any) -> None:
        self.removed = True

    def top(self) -> dict[str, Any]:
        return {"Processes": self.processes}


class FakeApi:
    """The low-level listing (dicts, as /containers/json returns them) and removal."""

    def __init__(self, containers: list[FakeContainer]) -> None:
        self.all = containers

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        key, _, value = (filters or {}).get("label", "").partition("=")
        return [{"Id": c.id, "Names": [f"/{c.name}"], "Labels": c.labels, "State": c.status}
                for c in self.all if c.labels.get(key) == value]

    def remove_container(self, container_id: str, **kwargs: Any) -> None:
        next(c for c in self.all if c.id == container_id).removed = True


class FakeContainers:
    def __init__(self, containers: list[FakeContainer]) -> None:
        self.all = containers

    def get(self, container_id: str) -> FakeContainer:
        return next(c for c in self.all if c.id == container_id)


class FakeImages:
    def list(self, filters: dict[str, Any] | None = None) -> list[Any]:
        return []


class FakeClient:
    def __init__(self, containers: list[FakeContainer]) -> None:
        self.all = containers
        self.api = FakeApi(containers)
        self.containers = FakeContainers(containers)
        self.images = FakeImages()


def _dead_owner() -> Owner:
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=lambda: None)
    child.start()
    child.join()
    return Owner(**{**Owner.current("run").to_json(), "pid": child.pid})


def test_only_containers_of_runs_that_are_provably_gone_are_reaped() -> None:
    dead, alive = _dead_owner(), Owner.current("run")
    elsewhere = Owner(**{**dead.to_json(), "host": "another-host"})
    orphan = FakeContainer("cnm-codex0.117.0-aaaa", dead)
    stopped_orphan = FakeContainer("cnm-codex0.20.0-aaaa", dead, status="exited")
    kept = FakeContainer("cnm-codex0.44.0-bbbb" + labels.KEPT_SUFFIX, dead)
    live = FakeContainer("cnm-codex0.117.0-cccc", alive)
    remote = FakeContainer("cnm-codex0.117.0-dddd", elsewhere)
    old = FakeContainer("cnm-codex0.117.0-eeee", None)
    client = FakeClient([orphan, stopped_orphan, kept, live, remote, old])
    assert [o.name for o in find(client)] == [orphan.name, stopped_orphan.name]
    line = reap(client)
    assert line is not None and line.startswith("removed 2 run containers whose codex-matrix run is gone")
    assert f"pid {dead.pid} on " in line and orphan.name in line
    assert [c.name for c in client.all if c.removed] == [orphan.name, stopped_orphan.name]
    assert reap(FakeClient([live, kept])) is None


def test_prune_calls_only_containers_kept_on_purpose_kept_for_inspection() -> None:
    suite = [["root", "1", "sleep 70"], ["root", "2", "python3 -m pytest /suite"]]
    kept = FakeContainer("cnm-a" + labels.KEPT_SUFFIX, _dead_owner())
    old_idle = FakeContainer("cnm-b", None)
    live_idle = FakeContainer("cnm-c", Owner.current("run"))  # its run is alive: its run decides
    live_created = FakeContainer("cnm-e", Owner.current("run"), status="created")  # being started right now
    busy = FakeContainer("cnm-d", None, processes=suite)
    removed = prune(FakeClient([kept, old_idle, live_idle, live_created, busy]))
    assert f"container {kept.name} ({kept.short_id}, kept for inspection)" in removed
    assert f"container {old_idle.name} ({old_idle.short_id}, idle: left by an older codex-matrix)" in removed
    assert not live_idle.removed and not live_created.removed and not busy.removed
