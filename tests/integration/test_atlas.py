"""The atlas end to end on three real legacy releases (0.20.0–0.22.0), through the real CLI.

Interrupted (SIGINT, as Ctrl-C sends; SIGTERM is the same interrupt, tests/unit/test_lifecycle.py) once the
first release is recorded, it exits 130 with its containers gone and atlas.jsonl intact; restarted with
``--resume`` it finishes without redoing the recorded releases. As by default, builds are mounted into the
base image and two releases run at once. Builds go to a private cache, so what the atlas downloads is
visibly removed afterwards, no image is built for a release, and images that existed before (0.20.0 is a
default matrix build) stay and are used.
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

import pytest

ROOT = Path(__file__).resolve().parents[2]
RANGE = ("--since", "0.20.0", "--until", "0.22.0")


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(raw) for raw in path.read_text().splitlines()]  # every line must parse


def _codex_images(docker_client: Any) -> set[str]:
    """Tags of the project's images of the releases in RANGE (other images belong to other work)."""
    tags = {t for i in docker_client.images.list(filters={"label": "codex-native-matrix.kind=codex"}) for t in i.tags}
    return {t for t in tags if any(f"codex:{v}-" in t for v in ("0.20.0", "0.21.0", "0.22.0"))}


@pytest.fixture(scope="module")
def atlas_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any,
              run_containers: Callable[[], list[Any]]) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("atlas")
    out, cache = tmp / "atlas", tmp / "cache"
    images_before = _codex_images(docker_client)
    containers_before = {c.id for c in run_containers()}

    def mine() -> list[str]:  # new containers writing into this atlas's out dir (other runs share the daemon)
        return [c.name for c in run_containers()
                if c.id not in containers_before and str(out) in str(c.attrs.get("Mounts"))]

    argv = [sys.executable, "-m", "harness", "atlas", *RANGE, "--cells", "compact", "--out", str(out),
            "--cache-dir", str(cache)]
    first = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 900
        while len(_lines(out / "atlas.jsonl")) < 1:
            assert first.poll() is None, f"the atlas ended before recording a release:\n{first.stdout.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no release recorded in 15 minutes"
            time.sleep(0.5)
        recorded_before_stop = _lines(out / "atlas.jsonl")
        signalled = time.monotonic()
        first.send_signal(signal.SIGINT)
        first_output, _ = first.communicate(timeout=180)
        stopped_s = time.monotonic() - signalled
    finally:
        if first.poll() is None:
            first.kill()
    after_stop = _lines(out / "atlas.jsonl")
    leaked = mine()
    second = subprocess.run([*argv, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)
    return {"out": out, "cache": cache, "first_code": first.returncode, "first_output": first_output,
            "stopped_s": stopped_s,
            "recorded_before_stop": recorded_before_stop, "after_stop": after_stop, "leaked_after_stop": leaked,
            "second": second, "images_before": images_before, "images_after": _codex_images(docker_client),
            "leaked_after_resume": mine()}


def test_interrupted_atlas_exits_130_and_keeps_its_file(atlas_run: dict[str, Any]) -> None:
    assert atlas_run["first_code"] == 130, atlas_run["first_output"][-2000:]
    assert "interrupted: rerun with --resume" in atlas_run["first_output"]
    assert atlas_run["leaked_after_stop"] == []
    # the run in flight stops at once; a preparation in flight (download, image build) finishes its step first
    assert atlas_run["stopped_s"] < 120, f"took {atlas_run['stopped_s']:.0f} s to stop"
    before = [r["version"] for r in atlas_run["recorded_before_stop"]]
    after = [r["version"] for r in atlas_run["after_stop"]]
    assert after[: len(before)] == before and len(after) < 3  # nothing lost, the interrupted one not recorded


def test_resume_finishes_without_redoing_recorded_releases(atlas_run: dict[str, Any]) -> None:
    second = atlas_run["second"]
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    done_first = [r["version"] for r in atlas_run["after_stop"]]
    assert f"{len(done_first)} already recorded (skipped)" in second.stderr
    lines = _lines(atlas_run["out"] / "atlas.jsonl")
    assert sorted(r["version"] for r in lines) == ["0.20.0", "0.21.0", "0.22.0"]  # each exactly once
    assert lines[: len(done_first)] == atlas_run["after_stop"]  # recorded lines untouched
    assert atlas_run["leaked_after_resume"] == []


def test_every_release_ran_its_cells_and_was_fingerprinted(atlas_run: dict[str, Any]) -> None:
    for record in _lines(atlas_run["out"] / "atlas.jsonl"):
        assert record["status"] == "ok", record["error"]
        assert len(record["cells"]) == 8
        assert all(c["status"] in ("pass", "xfail") for c in record["cells"].values()), record["failures"]
        assert record["fingerprint"]["protocol"] == "legacy"
        assert record["fingerprint"]["version_line"] == f"codex-cli {record['version']}"
        assert record["timings"]["runs_s"] > 0 and record["tree_files"]
        # 0.20.0 has a default-matrix image (used as it is); the others are mounted into the base image
        assert record["install"] == ("image" if record["reused"]["image"] else "mount")
        assert any(name.endswith("[tool-race]") for tests in record["tests"].values() for name in tests)


def test_timeline_files_are_written(atlas_run: dict[str, Any]) -> None:
    out = atlas_run["out"]
    timeline = json.loads((out / "atlas.json").read_text())
    assert timeline["observed"] == ["0.20.0", "0.21.0", "0.22.0"]
    legacy = next(f for f in timeline["facts"] if f["category"] == "protocol" and f["value"] == "legacy")
    assert legacy["constant"] is True
    assert "codex release atlas" in (out / "atlas.md").read_text()
    assert "<script" not in (out / "atlas.html").read_text()


def test_only_what_the_atlas_brought_in_is_removed(atlas_run: dict[str, Any]) -> None:
    assert atlas_run["images_before"] <= atlas_run["images_after"]  # nothing that was there went away
    assert atlas_run["images_after"] - atlas_run["images_before"] == set()  # what it built went again
    cache = atlas_run["cache"]
    assert not [p.name for p in cache.iterdir() if p.name[0].isdigit()]  # every tree it downloaded is gone
    raw = atlas_run["out"] / "raw"  # every release met its cells: its raw output is packed, nothing else left
    assert sorted(p.name for p in raw.iterdir()) == ["0.20.0.tar.gz", "0.21.0.tar.gz", "0.22.0.tar.gz"]
