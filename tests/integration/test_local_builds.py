"""Builds npm has never seen, run side by side with a release in real containers (issue 26): a binary
copied out of 0.169.0, and a build that reports 0.999.0 and speaks a dialect (an invented item type and
usage key, tests/fixtures/dialect_build.py). Both must get their own ids, images and fingerprints; the
dialect must show in the fingerprint and in ``diff``, with its unknown item kept raw by the lane."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.binaries.cache import fetch
from harness.buildid import is_local, reported_version
from tests.fixtures import dialect_build
from tests.integration.test_regress import cli


def test_local_builds_run_beside_the_release_and_show_what_they_change(tmp_path: Path) -> None:
    release = fetch("0.169.0")
    copy = tmp_path / "copied" / "codex"
    copy.parent.mkdir()
    shutil.copyfile(release.binary, copy)
    copy.chmod(0o755)
    dialect = dialect_build.make(release.root, release.binary_relpath, tmp_path / "dialect")
    out = tmp_path / "out"
    done = cli("run", "--versions", f"{copy},{dialect},0.169.0", "--credentials", "codex-api-key",
               "--policies", "ephemeral", "--scenarios", "ok,tool", "--out", str(out), "--keep", "never")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    builds = results["builds"]
    local = sorted(v for v in builds if is_local(v))
    assert len(local) == 2 and "0.169.0" in builds
    copied = next(v for v in local if reported_version(v) == "0.169.0")
    spoken = next(v for v in local if reported_version(v) == dialect_build.VERSION)
    ids = [c["id"] for c in results["cells"]]
    assert len(ids) == len(set(ids)) == 3  # one cell per build, none sharing an id
    assert {c["version"] for c in results["cells"]} == {"0.169.0", copied, spoken}
    assert builds[copied]["version_line"] == builds["0.169.0"]["version_line"] == "codex-cli 0.169.0"
    assert builds[spoken]["version_line"] == "codex-cli 0.999.0"
    assert dialect_build.ITEM_TYPE in builds[spoken]["item_types"]
    assert dialect_build.USAGE_KEY in builds[spoken]["usage_keys"]
    assert dialect_build.ITEM_TYPE not in builds["0.169.0"]["item_types"]
    assert all(c["status"] == "pass" for c in results["cells"]), [(c["id"], c["status"]) for c in results["cells"]]
    summary = json.loads(next((out / "raw" / spoken).glob("cells/*/ok/summary.json")).read_text())
    assert f"item.completed:{dialect_build.ITEM_TYPE}" in summary["unsupported_raw_events"]

    diff = cli("diff", f"{out / 'results.json'}:0.169.0", f"{out / 'results.json'}:{spoken}")
    assert diff.returncode == 0, diff.stderr
    assert f"+ `{dialect_build.ITEM_TYPE}`" in diff.stdout and f"+ `{dialect_build.USAGE_KEY}`" in diff.stdout
