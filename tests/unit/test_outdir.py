"""The out dir is owned, locked, cleared and written whole (no Docker: the claim comes before the daemon)."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import UserError
from harness.outdir import MARKER, OutDir, foreign_content, read_marker
from harness.owner import Owner


def test_a_foreign_directory_is_refused_and_left_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos = tmp_path / "U"
    (photos / "raw" / "2024").mkdir(parents=True)
    (photos / "raw" / "2024" / "IMG.CR2").write_bytes(b"a photo")
    (photos / "report.md").write_text("my notes")
    before = sorted((p.relative_to(photos), p.read_bytes() if p.is_file() else b"") for p in photos.rglob("*"))
    assert main(["run", "--versions", "0.117.0", "--out", str(photos)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty and was not written by codex-matrix" in err
    assert "nothing was changed" in err
    after = sorted((p.relative_to(photos), p.read_bytes() if p.is_file() else b"") for p in photos.rglob("*"))
    assert after == before


def test_an_out_dir_of_an_earlier_version_without_marker_is_recognised(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "raw" / "0.117.0").mkdir(parents=True)
    (out / "results.json").write_text(json.dumps({"schema": 1, "cells": []}))
    (out / "report.md").write_text("x")
    assert foreign_content(out) == ""
    (out / "holiday.jpg").write_bytes(b"x")
    assert "holiday.jpg" in foreign_content(out)


def test_a_damaged_marker_is_not_trusted(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_text("{not json")
    (tmp_path / "results.json").write_text("{}")
    assert "damaged" in foreign_content(tmp_path)


def _hold(path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    with OutDir.claim(Path(path), Owner.current("run")):
        ready.set()
        done.wait(30)


def test_a_second_run_on_a_busy_out_dir_names_the_holder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(out), ready, done))
    holder.start()
    try:
        assert ready.wait(30)
        assert main(["run", "--versions", "0.117.0", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is in use by another codex-matrix run" in err
        assert f"pid {holder.pid} on " in err and "started 20" in err
    finally:
        done.set()
        holder.join(30)
    with OutDir.claim(out) as claimed:  # the lock went with its holder
        assert read_marker(out) == claimed.owner


def test_the_lock_goes_with_a_killed_holder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(out), ready, done))
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid or 0, 9)
    holder.join(30)
    with OutDir.claim(out):
        pass


def test_a_file_or_an_unwritable_place_fails_at_once(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UserError, match="is a file, not a directory"):
        OutDir.claim(a_file)
    with pytest.raises(UserError, match="Not a directory") as err:
        OutDir.claim(a_file / "out")
    assert err.value.exit_code == 2


def test_an_unused_new_out_dir_is_removed_again(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    with OutDir.claim(out):
        assert (out / MARKER).is_file()
    assert not out.exists()
    with OutDir.claim(out) as claimed:
        claimed.clear_previous()
    assert (out / MARKER).is_file()


def test_clear_previous_removes_only_what_a_run_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutDir.claim(out) as claimed:
        claimed.clear_previous()
        for name in ("results.json", "junit.xml", "report.md", "results.json.tmp", "notes.txt"):
            (out / name).write_text("old")
        (out / "raw" / "0.117.0").mkdir(parents=True)
        (out / ".live" / "abc" / "0.117.0").mkdir(parents=True)
        (out / ".reports-1-abc").mkdir()
    with OutDir.claim(out) as claimed:
        claimed.clear_previous()
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "notes.txt"]


def test_reports_are_published_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"

    def good(name: str):  # type: ignore[no-untyped-def]
        def write(d: Path) -> Path:
            (d / name).write_text(name)
            return d / name
        return write

    def full(d: Path) -> Path:
        (d / "junit.xml").write_text("half")
        raise OSError(28, "No space left on device", str(d / "junit.xml"))

    with OutDir.claim(out) as claimed:
        claimed.clear_previous()
        with pytest.raises(UserError, match="No space left on device") as err:
            claimed.publish_reports([good("results.json"), full, good("report.md")])
        assert err.value.exit_code == 2
        assert sorted(p.name for p in out.iterdir()) == [MARKER]  # no partial file, no scratch dir
        paths = claimed.publish_reports([good("results.json"), good("report.md")])
    assert [p.name for p in paths] == ["results.json", "report.md"]
    assert (out / "report.md").read_text() == "report.md"


def test_owner_alive_and_gone() -> None:
    me = Owner.current("run")
    assert me.alive() is True
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=lambda: None)
    child.start()
    child.join()
    gone = Owner(**{**me.to_json(), "pid": child.pid})
    assert gone.alive() is False
    reused = Owner(**{**me.to_json(), "start": "1"})  # same pid, another start time: pid reuse
    assert reused.alive() is False
    elsewhere = Owner(**{**me.to_json(), "host": "another-host"})
    assert elsewhere.alive() is None
    assert Owner.from_json(me.to_json()) == me
    assert Owner.from_json({"pid": "x"}) is None
