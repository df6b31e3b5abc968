"""Node lane images are content-addressed like the others (harness.images.lanes): the tag hashes the recipe,
the build image and the .deb set, and a damaged .deb set is never used."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from harness.images.lanes import MANIFEST, _digest, _verified, lane_tag


def test_the_tag_changes_with_every_input() -> None:
    tag = lane_tag("0.171.0", "codex-native-matrix/codex:0.171.0-aaaa", "d" * 64)
    assert tag.startswith("codex-native-matrix/lane-node:0.171.0-")
    assert tag == lane_tag("0.171.0", "codex-native-matrix/codex:0.171.0-aaaa", "d" * 64)
    assert tag != lane_tag("0.171.0", "codex-native-matrix/codex:0.171.0-bbbb", "d" * 64)
    assert tag != lane_tag("0.171.0", "codex-native-matrix/codex:0.171.0-aaaa", "e" * 64)


def test_a_deb_set_is_used_only_while_it_is_what_was_fetched(tmp_path: Path) -> None:
    deb = tmp_path / "nodejs_18.deb"
    deb.write_bytes(b"a package")
    files = {deb.name: hashlib.sha256(b"a package").hexdigest()}
    (tmp_path / MANIFEST).write_text(json.dumps({"digest": _digest(files), "files": files}))
    assert _verified(tmp_path) == (_digest(files), files)
    deb.write_bytes(b"a changed package")
    assert _verified(tmp_path) is None
    assert _verified(tmp_path / "absent") is None
