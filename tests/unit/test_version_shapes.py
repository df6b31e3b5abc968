"""Issue 27, cause 12: every shape check takes the whole string (``fullmatch``/``\\Z``, never ``match`` + ``$``,
which also matches before a final newline). ``0.117.0\\n`` once became a lock file name in the build cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.binaries.registry import check_version_shape
from harness.bisect.terms import parse_terms
from harness.errors import UserError
from harness.lane.executable import parse_version_line
from harness.lane.hydration import find_rollout
from harness.releases import is_release

TRAILING = ["0.117.0\n", "0.117.0-alpha.1\n"]


@pytest.mark.parametrize("text", TRAILING)
def test_build_cache_names_take_the_whole_string(text: str) -> None:
    check_version_shape(text.strip())
    with pytest.raises(UserError):
        check_version_shape(text)


def test_release_and_terms_shapes_take_the_whole_string() -> None:
    assert is_release("0.117.0") and not is_release("0.117.0\n")
    assert parse_terms("broken,fixed\n").new == "fixed"  # words are stripped first, as typed on a command line
    with pytest.raises(UserError):
        parse_terms("broken,fix\ted")


def test_thread_ids_and_version_lines_take_the_whole_string(tmp_path: Path) -> None:
    session = tmp_path / "sessions" / "2026" / "rollout-2026-t1.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text("{}\n")
    assert find_rollout(tmp_path, "t1") == session
    (session.parent / "rollout-2026-t1\n.jsonl").write_text("{}\n")  # only an id with a newline finds it
    assert find_rollout(tmp_path, "t1\n") is None
    assert parse_version_line("codex-cli 0.117.0\n") == ("codex-cli 0.117.0", "0.117.0")


def test_data_files_take_versions_without_surrounding_whitespace(tmp_path: Path) -> None:
    from harness.incoming.fields import Strict, Version, validate

    class Doc(Strict):
        version: Version

    assert validate(Doc, {"version": "0.128.0-alpha.1"}, tmp_path / "f.json", "fix").version == "0.128.0-alpha.1"
    for bad in ("0.117.0\n", " 0.117.0", "0.117.0-linux-x64", "0.117"):
        with pytest.raises(UserError, match=r"f\.json: version: "):
            validate(Doc, {"version": bad}, tmp_path / "f.json", "fix")
