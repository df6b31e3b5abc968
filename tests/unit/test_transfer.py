"""Bind mounts for a daemon on this machine, copies through the Docker API for any other."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UserError
from harness.run.transfer import copy_in, copy_out, transfer_mode


@pytest.mark.parametrize(("host", "mode"), [
    ("unix:///var/run/docker.sock", "mount"), ("tcp://127.0.0.1:2375", "mount"), ("tcp://localhost:2376", "mount"),
    ("tcp://[::1]:2375", "mount"), ("tcp://docker:2375", "copy"), ("tcp://builder.invalid:2376", "copy"),
    ("ssh://ci@builder", "copy"),
])
def test_auto_mode_follows_where_the_daemon_is(host: str, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_MATRIX_TRANSFER", raising=False)
    assert transfer_mode(host) == mode


def test_forced_mode_and_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_MATRIX_TRANSFER", "copy")
    assert transfer_mode("unix:///var/run/docker.sock") == "copy"
    monkeypatch.setenv("CODEX_MATRIX_TRANSFER", "rsync")
    with pytest.raises(UserError, match="mount, copy or auto"):
        transfer_mode("unix:///var/run/docker.sock")


class Archive:
    """What the Docker API's put_archive/get_archive see: one container filesystem as a tar, in memory."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        self.links: dict[str, str] = {}

    def put_archive(self, path: str, data: Any) -> bool:
        assert path == "/"
        raw = data.read() if hasattr(data, "read") else data  # docker-py streams a file object as it is
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for m in tar.getmembers():
                if m.isdir():
                    self.dirs.add(m.name)
                elif m.issym():
                    self.links[m.name] = m.linkname
                else:
                    assert str(Path(m.name).parent) in self.dirs, f"{m.name} before its directory"
                    extracted = tar.extractfile(m)
                    assert extracted is not None
                    self.files[m.name] = extracted.read()
        return True

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, Any]]:
        prefix = path.strip("/")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in sorted(self.files.items()):
                if name.startswith(prefix + "/"):
                    info = tarfile.TarInfo(Path(prefix).name + name[len(prefix):])
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        return [buffer.getvalue()], {}


def test_copy_in_then_out_round_trips_and_skips_caches(tmp_path: Path) -> None:
    package = tmp_path / "harness"
    (package / "lane" / "__pycache__").mkdir(parents=True)
    (package / "lane" / "seam.py").write_text("print('seam')\n")
    (package / "lane" / "__pycache__" / "seam.cpython-311.pyc").write_bytes(b"\0")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "cells.json").write_text("{}")
    container = Archive()
    copy_in(container, [(package, "/cnm/harness"), (raw, "/out")])
    assert set(container.files) == {"cnm/harness/lane/seam.py", "out/cells.json"}
    container.files["out/cells/c1/ok/facts.json"] = b'{"wall_s": 1}'
    container.files["out/suite-log.jsonl"] = b"{}\n"
    copy_out(container, "/out", raw)
    assert (raw / "cells" / "c1" / "ok" / "facts.json").read_text() == '{"wall_s": 1}'
    assert (raw / "suite-log.jsonl").is_file() and (raw / "cells.json").read_text() == "{}"


def test_a_mounted_build_is_copied_where_its_image_would_put_it(tmp_path: Path) -> None:
    """For a remote daemon the atlas's build tree goes in with the suite: files, modes and links kept."""
    from harness.run.plan import JobPlan, MountedBuild
    from harness.run.transfer import copied_trees, mounts

    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "codex").write_bytes(b"\x7fELF")
    (tree / "bin" / "codex").chmod(0o755)
    (tree / "bin" / "codex-alias").symlink_to("codex")
    live = tmp_path / "live"
    live.mkdir()
    plan = JobPlan(name="codex0.131.0", version="0.131.0", image="base", cells=(), raw_dir=tmp_path / "raw",
                   mounted=MountedBuild("0.131.0", tree, "bin/codex"))
    container = Archive()
    copy_in(container, copied_trees(plan, live))
    assert container.files["opt/codex/0.131.0/bin/codex"] == b"\x7fELF"
    assert container.links == {"opt/codex/0.131.0/bin/codex-alias": "codex"}
    binds = {m["Target"]: m for m in mounts(plan, live)}
    assert binds["/opt/codex/0.131.0"]["Source"] == str(tree.resolve())
    assert binds["/opt/codex/0.131.0"]["ReadOnly"] is True
    assert plan.mounted is not None and plan.mounted.binary == "/opt/codex/0.131.0/bin/codex"
    unmounted = JobPlan(name="codex0.131.0", version="0.131.0", image="img", cells=(), raw_dir=tmp_path / "raw")
    assert "/opt/codex/0.131.0" not in {m["Target"] for m in mounts(unmounted, live)}
