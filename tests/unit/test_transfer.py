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

    def put_archive(self, path: str, data: bytes) -> bool:
        assert path == "/"
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                if m.isdir():
                    self.dirs.add(m.name)
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
