"""The streamed build context: what docker-py's ``path=`` mode would send, without its temp file."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from harness.images.dockerbuild import context_tar


def _context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "tree" / "codex-resources" / "lib").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM base\nCOPY tree/ /opt/codex/\n")
    (ctx / "tree" / "codex").write_bytes(os.urandom(3 << 20))  # several chunks
    (ctx / "tree" / "codex").chmod(0o755)
    (ctx / "tree" / "codex-resources" / "lib" / "libz.so.1").write_bytes(b"z")
    (ctx / "tree" / "codex-resources" / "lib" / "libz.so").symlink_to("libz.so.1")
    return ctx


def test_the_tar_holds_the_context_with_relative_names_and_symlinks(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    calls: list[str] = []
    data = b"".join(context_tar(ctx, lambda: calls.append("sent")))
    assert calls == ["sent"]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert {"Dockerfile", "tree/codex", "tree/codex-resources/lib/libz.so"} <= set(members)
        assert members["tree/codex-resources/lib/libz.so"].issym()
        assert members["tree/codex-resources/lib/libz.so"].linkname == "libz.so.1"
        assert members["tree/codex"].mode & 0o777 == 0o755
        body = tar.extractfile("tree/codex")
        assert body is not None and body.read() == (ctx / "tree" / "codex").read_bytes()


def test_sent_is_not_called_before_the_last_chunk(tmp_path: Path) -> None:
    calls: list[str] = []
    stream = context_tar(_context(tmp_path), lambda: calls.append("sent"))
    next(stream)
    assert calls == []
    stream.close()  # the reader gives up: the writer thread gets EPIPE and ends
    assert calls == []


def test_an_unreadable_file_fails_the_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cut tar must fail the build (the daemon would build from half a tree), and ``sent`` never runs."""
    def unreadable(self: tarfile.TarFile, name: str, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(tarfile.TarFile, "add", unreadable)
    calls: list[str] = []
    with pytest.raises(OSError, match=r"cannot read the build context .*Permission denied"):
        b"".join(context_tar(_context(tmp_path), lambda: calls.append("sent")))
    assert calls == []
