"""The transfer deadline, its setting, and the progress lines a CI log gets for a long download."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from harness.binaries import transfer
from harness.errors import UserError
from harness.progress import RichProgress


class FakeResponse:
    """Just what read_all uses of an http.client.HTTPResponse."""

    def __init__(self, chunks: list[bytes], length: int | None, delay: float = 0.0) -> None:
        self.chunks = list(chunks)
        self.headers = {"Content-Length": str(length)} if length is not None else {}
        self.delay = delay

    def read1(self, n: int) -> bytes:
        time.sleep(self.delay)
        return self.chunks.pop(0) if self.chunks else b""


def read(response: Any, seconds: float = 60.0) -> bytes:
    got: list[bytes] = []
    transfer.read_all(response, what="downloading x", url="http://mirror/x.tgz",
                      deadline=transfer.Deadline(seconds), sink=got.append)
    return b"".join(got)


def test_a_whole_body_is_read() -> None:
    assert read(FakeResponse([b"ab", b"cd"], 4)) == b"abcd"
    assert read(FakeResponse([b"ab", b"cd"], None)) == b"abcd"


def test_a_body_shorter_than_announced_is_cut_short() -> None:
    with pytest.raises(transfer.TransferError, match=r"cut short .* \(2 of 4 bytes\)"):
        read(FakeResponse([b"ab"], 4))


def test_a_trickle_ends_at_the_deadline() -> None:
    with pytest.raises(transfer.TransferError, match="took longer than 0 s"):
        read(FakeResponse([b"a"] * 100, 100, delay=0.02), seconds=0.1)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "inf", "nan", "1e9"])
def test_a_bad_deadline_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(transfer.DEADLINE_ENV, value)
    with pytest.raises(UserError, match=transfer.DEADLINE_ENV):
        transfer.deadline_s()


def test_the_deadline_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(transfer.DEADLINE_ENV, raising=False)
    assert transfer.deadline_s() == 600
    monkeypatch.setenv(transfer.DEADLINE_ENV, "1200")
    assert transfer.deadline_s() == 1200


def test_a_long_download_shows_progress_in_a_ci_log() -> None:
    log = io.StringIO()
    progress = RichProgress(file=log)
    progress.heartbeat_s = 0.0
    progress.start("download @openai/codex@0.117.0", 4_000_000)
    progress.advance(1_000_000)
    progress.advance(1_000_000)
    progress.done("4.0 MB, sha512 verified")
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("download @openai/codex@0.117.0: 1.0 MB of 4.0 MB after")
    assert lines[1].startswith("download @openai/codex@0.117.0: 2.0 MB of 4.0 MB after")
    assert lines[-1].startswith("download @openai/codex@0.117.0: 4.0 MB, sha512 verified")
