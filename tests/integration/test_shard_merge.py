"""Two shards run separately and merged say what one unsharded run says: the same cells, the same statuses.

Real builds in real containers through the real CLI: 0.44.0 (no --ephemeral: ephemeral cells are refused)
and 0.117.0, two credential setups each, so the shards hold different expectations.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ["--versions", "0.44.0,0.117.0", "--credentials", "codex-api-key,none",
             "--scenarios", "ok,tool,unauthorized"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800, check=False)


def _cells(out: Path) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads((out / "results.json").read_text())["cells"]}


@pytest.fixture(scope="module")
def outs(tmp_path_factory: pytest.TempPathFactory, docker_client: object) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("shards")
    dirs = {name: base / name for name in ("whole", "shard-1", "shard-2", "merged")}
    for name, extra in (("whole", []), ("shard-1", ["--shard", "1/2"]), ("shard-2", ["--shard", "2/2"])):
        proc = _cli("run", *SELECTION, *extra, "--out", str(dirs[name]), "--keep", "never", "-j", "1")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = _cli("merge", str(dirs["shard-2"]), str(dirs["shard-1"]), "--out", str(dirs["merged"]))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dirs


def test_each_shard_holds_one_whole_build(outs: dict[str, Path]) -> None:
    versions = [{c.split("-")[0] for c in _cells(outs[f"shard-{k}"])} for k in (1, 2)]
    assert sorted(v for s in versions for v in s) == ["codex0.117.0", "codex0.44.0"]
    assert all(len(s) == 1 for s in versions)


def test_merged_shards_equal_one_unsharded_run(outs: dict[str, Path]) -> None:
    whole, merged = _cells(outs["whole"]), _cells(outs["merged"])
    assert len(whole) == 8 and merged == whole
    assert list(merged) == list(whole)  # and in the same order
    data = json.loads((outs["merged"] / "results.json").read_text())
    assert set(data["builds"]) == {"0.44.0", "0.117.0"}
    assert data["summary"] == json.loads((outs["whole"] / "results.json").read_text())["summary"]
    html = (outs["merged"] / "report.html").read_text()
    assert all(f'data-id="{cell}"' in html for cell in whole)
    assert all(Path(c["artifacts"]).is_relative_to(outs["merged"]) for c in data["cells"])
