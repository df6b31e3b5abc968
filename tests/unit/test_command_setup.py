"""Every command starts alike: one way to get Docker (orphans reaped first), one way to build run options.

Both promises once held only for ``run``: ``repro``, ``diff``, ``bisect`` and ``atlas`` took a bare
Docker client (containers orphaned by a killed run stayed until someone ran ``prune``), and ``repro``,
``diff`` and ``bisect`` built their run options without matrix.yaml's ``codex:`` block. Each command
here runs for real up to its first use of Docker or of the containers, against fakes that record.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest

import harness
from harness import docker_env, orphans
from harness.atlas import releases as atlas_releases
from harness.atlas.runner import Atlas, AtlasOptions
from harness.binaries import registry as npm
from harness.cli import bisect as bisect_cli
from harness.cli import cellruns
from harness.cli import prune as prune_cli
from harness.cli import repro as repro_cli
from harness.cli.main import build_parser
from harness.matrix import load_matrix
from harness.matrix.schema import CodexSettings
from harness.releases import Release, ReleaseIndex
from harness.run import RunOptions

PACKAGE = Path(harness.__file__).resolve().parent

#: A ``codex:`` block unlike the defaults, so a command that drops it shows.
CODEX_BLOCK = "codex:\n  request_max_retries: 7\n  stream_max_retries: 5\n  stream_idle_timeout_ms: 4321\n"
MATRIX = f"""\
versions: [0.98.0, 0.117.0]
credentials: [codex-api-key]
policies: [ephemeral, persistent]
scenarios: [ok]
{CODEX_BLOCK}"""


class Reached(Exception):
    """The command got as far as the test needed: it stops here."""


class Recorder:
    """What the command did, in order: ``docker`` (a client made), ``reap``, ``use:<attr>``, ``run``."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.options: RunOptions | None = None


class FakeClient:
    """A Docker client that records its first use and then stops the command."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        self._recorder.events.append(f"use:{name}")
        raise Reached(name)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Recorder:
    rec = Recorder()

    def docker_client() -> FakeClient:
        rec.events.append("docker")
        return FakeClient(rec)

    def reap(client: Any) -> str:
        assert isinstance(client, FakeClient)
        rec.events.append("reap")
        return ""

    def prepare_images(client: Any, cells: Any, console: Any, cache_dir: Any = None) -> cellruns.CellImages:
        return cellruns.CellImages({c.version: f"codex-matrix/codex:{c.version}" for c in cells})

    def run_cells(cells: Any, images: Any, options: RunOptions, reporter: Any, runs: int = 1) -> Any:
        rec.events.append("run")
        rec.options = options
        raise Reached("run_cells")

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise Reached("docker work")

    index = ReleaseIndex("https://registry.example/", "2026-01-01T00:00:00Z", tuple(
        Release(v, linux_x64=f"{v}-linux-x64") for v in ("0.98.0", "0.99.0", "0.117.0")))
    monkeypatch.setattr(docker_env, "docker_client", docker_client)
    monkeypatch.setattr(orphans, "reap", reap)
    for module in (cellruns, repro_cli, bisect_cli):
        monkeypatch.setattr(module, "prepare_images", prepare_images)
    monkeypatch.setattr(cellruns, "run_cells", run_cells)
    monkeypatch.setattr(repro_cli, "_fetch", lambda version, cache_dir, console: object())
    monkeypatch.setattr(bisect_cli, "load_index", lambda: index)
    monkeypatch.setattr("harness.images.ensure_images", stop)
    monkeypatch.setattr("harness.images.ensure_base_image", stop)
    monkeypatch.setattr("harness.run.shell.open_shell", stop)
    monkeypatch.setattr(prune_cli, "prune", stop)
    monkeypatch.setattr(npm, "packument", lambda registry: {})
    monkeypatch.setattr(atlas_releases, "stable_releases", lambda doc, registry, **kw: [Release("0.117.0")])
    (tmp_path / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the atlas reads ./matrix.yaml
    return rec


CELL = "codex0.117.0-codex-api-key-persistent"
COMMANDS: dict[str, list[str]] = {
    "run": ["run", "--versions", "0.117.0", "--out", "out"],
    "build": ["build", "--versions", "0.117.0"],
    "prune": ["prune"],
    "repro": ["repro", CELL],
    "repro --shell": ["repro", CELL, "--shell"],
    "diff": ["diff", "0.98.0", "0.117.0", "--scenarios", "ok"],
    "bisect": ["bisect", "--good", "0.98.0", "--bad", "0.117.0", "--credentials", "codex-api-key",
               "--policies", "persistent", "--scenarios", "ok", "--out", "out"],
    "atlas": ["atlas", "--out", "atlas"],
}
#: Commands that run cells through the shared code of ``repro``, ``diff`` and ``bisect``.
CELL_RUNNERS = ("repro", "diff", "bisect")


def _start(argv: list[str]) -> None:
    args: argparse.Namespace = build_parser().parse_args(argv)
    with pytest.raises(Reached):
        args.func(args)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_docker_command_reaps_orphans_before_using_the_daemon(name: str, world: Recorder) -> None:
    _start(COMMANDS[name])
    assert world.events[:2] == ["docker", "reap"], world.events
    assert world.events.count("docker") == 1  # one client per command, the reaped one


def test_docker_clients_come_from_one_place() -> None:
    """A new command that makes its own client would skip the reaping: only cli/common.daemon may."""
    makers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                    if re.search(r"\bdocker_client\(\)", p.read_text(encoding="utf-8")))
    assert makers == ["cli/common.py"]


@pytest.mark.parametrize("name", CELL_RUNNERS)
def test_matrix_codex_block_reaches_the_run_options(name: str, world: Recorder) -> None:
    _start(COMMANDS[name])
    assert world.options is not None, world.events
    assert world.options.codex == CodexSettings(request_max_retries=7, stream_max_retries=5,
                                                stream_idle_timeout_ms=4321)
    assert world.options.timeouts == load_matrix(Path("matrix.yaml")).timeouts


def test_the_atlas_keeps_the_codex_block(world: Recorder, tmp_path: Path) -> None:
    config = load_matrix(tmp_path / "matrix.yaml")
    atlas = Atlas(client=None, config=config, base_tag="base", options=AtlasOptions(out_dir=tmp_path),
                  reporter=None)  # type: ignore[arg-type]
    assert atlas.run_options([]).codex == config.codex


def test_run_options_are_built_in_one_place() -> None:
    """Every command's options come from ``harness.run.plan.options_for`` (matrix.yaml's settings kept)."""
    builders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                      if re.search(r"\bRunOptions\(", p.read_text(encoding="utf-8")))
    assert builders == ["run/plan.py"]


#: The commands that start containers for cells: each takes one Invocation (harness.cli.invocation).
INVOKED = ("run", "repro", "repro --shell", "diff", "bisect", "atlas")


@pytest.mark.parametrize("name", INVOKED)
def test_one_invocation_reads_the_matrix_once(name: str, world: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """matrix.yaml is read once per command, through its Invocation (the atlas once read it twice)."""
    from harness.cli import invocation

    reads: list[object] = []

    def counting(path: object = None) -> object:
        reads.append(path)
        return load_matrix(path)  # type: ignore[arg-type]

    monkeypatch.setattr(invocation, "load_matrix", counting)
    _start(COMMANDS[name])
    assert len(reads) == 1, reads


def test_only_the_invocation_reads_the_matrix_for_these_commands() -> None:
    """run, repro, diff, bisect and atlas get matrix.yaml and Docker from their Invocation, never on their own."""
    for module in ("run", "repro", "diff", "bisect", "atlas", "cellruns"):
        text = (PACKAGE / "cli" / f"{module}.py").read_text(encoding="utf-8")
        assert not re.search(r"\bload_matrix\(|\bdaemon\(\)", text), module


def test_bisect_keeps_the_lane_a_cell_id_names() -> None:
    """``bisect --cells <lane cell id>`` once kept only the id's credential and policy and bisected the
    python lane's cell; the cells it runs now are that lane's, whole (lane, sandbox) but for the rules."""
    from harness.cli.bisect import CellMaker
    from harness.matrix import load_matrix

    lane_id = "codex0.117.0-codex-api-key-persistent+codex-sdk-0.163.0-provider"
    args = build_parser().parse_args(["bisect", "--good", "0.98.0", "--bad", "0.117.0", "--cells", lane_id,
                                      "--scenarios", "ok"])
    maker = CellMaker(load_matrix(), args, "0.117.0")
    [cell] = maker("0.120.0")
    assert cell.id == lane_id.replace("0.117.0", "0.120.0", 1) and cell.lane == "codex-sdk@0.163.0:provider"
    assert cell.known == {} and cell.scenarios == ("ok",)
    python = CellMaker(load_matrix(), build_parser().parse_args(
        ["bisect", "--good", "0.98.0", "--bad", "0.117.0", "--cells", "codex0.117.0-codex-api-key-persistent",
         "--scenarios", "ok"]), "0.117.0")
    assert [c.lane for c in python("0.120.0")] == ["python"]
