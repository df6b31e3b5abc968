"""Executable discovery and identity, with real tiny executables that print ``codex-cli X.Y.Z``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.lane.executable import (
    describe_miss,
    discover_executable,
    parse_version_line,
    read_version,
    release_of,
)


def fake_codex(directory: Path, version_output: str, *, name: str = "codex", rc: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' '{version_output}'\nexit {rc}\n")
    path.chmod(0o755)
    return path


@pytest.fixture()
def bins(tmp_path: Path) -> dict[str, Path]:
    return {
        "explicit": fake_codex(tmp_path / "explicit", "codex-cli 0.169.0"),
        "env": fake_codex(tmp_path / "env", "codex-cli 0.117.0"),
        "path": fake_codex(tmp_path / "onpath", "codex-cli 0.44.0"),
    }


def test_explicit_wins_over_env_and_path(bins: dict[str, Path]) -> None:
    env = {"CODEX_CLI_PATH": str(bins["env"]), "PATH": str(bins["path"].parent)}
    exe = discover_executable(str(bins["explicit"]), env)
    assert exe is not None
    assert (exe.path, exe.source, exe.version_line, exe.version) == (
        str(bins["explicit"]),
        "explicit",
        "codex-cli 0.169.0",
        "0.169.0",
    )


def test_env_wins_over_path(bins: dict[str, Path]) -> None:
    exe = discover_executable(None, {"CODEX_CLI_PATH": str(bins["env"]), "PATH": str(bins["path"].parent)})
    assert exe is not None
    assert (exe.source, exe.version) == ("env", "0.117.0")


def test_path_is_last(bins: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    exe = discover_executable(None, {"PATH": f"{empty}{os.pathsep}{bins['path'].parent}"})
    assert exe is not None
    assert (exe.path, exe.source, exe.version) == (str(bins["path"]), "system-path", "0.44.0")


def test_named_location_that_is_wrong_does_not_fall_through_to_path(bins: dict[str, Path], tmp_path: Path) -> None:
    env = {"PATH": str(bins["path"].parent)}
    assert discover_executable(str(tmp_path / "nope"), env) is None
    assert discover_executable(None, {**env, "CODEX_CLI_PATH": str(tmp_path / "nope")}) is None
    assert "CODEX_CLI_PATH" in describe_miss(None, {**env, "CODEX_CLI_PATH": str(tmp_path / "nope")})
    assert "explicit" in describe_miss(str(tmp_path / "nope"), env)


def test_not_found_on_path_or_empty_path(tmp_path: Path) -> None:
    assert discover_executable(None, {"PATH": str(tmp_path)}) is None
    assert discover_executable(None, {}) is None
    assert describe_miss(None, {}) == "PATH is empty, so no codex could be found on it"
    assert describe_miss(None, {"PATH": str(tmp_path)}) == "no `codex` executable on PATH"


def test_non_executable_and_directory_are_not_codex(tmp_path: Path) -> None:
    plain = fake_codex(tmp_path / "plain", "codex-cli 0.1.0")
    plain.chmod(0o644)
    (tmp_path / "dir" / "codex").mkdir(parents=True)
    assert discover_executable(str(plain), {}) is None
    assert discover_executable(None, {"PATH": f"{plain.parent}:{tmp_path / 'dir'}"}) is None
    assert discover_executable(str(tmp_path / "dir" / "codex"), {}) is None


def test_symlink_is_kept_and_relative_path_made_absolute(
    bins: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "links" / "codex"
    link.parent.mkdir()
    link.symlink_to(bins["explicit"])
    exe = discover_executable(None, {"PATH": str(link.parent)})
    assert exe is not None and exe.path == str(link) and exe.version == "0.169.0"
    monkeypatch.chdir(tmp_path)
    rel = discover_executable("links/codex", {})
    assert rel is not None and rel.path == str(link)


def test_unidentifiable_binary_is_found_without_version(tmp_path: Path) -> None:
    garbage = fake_codex(tmp_path / "g", "something else 1.2.3")
    failing = fake_codex(tmp_path / "f", "codex-cli 0.117.0", rc=3)
    for path in (garbage, failing):
        exe = discover_executable(str(path), {})
        assert exe is not None
        assert (exe.version_line, exe.version) == (None, None)


def test_version_cache_follows_file_changes(tmp_path: Path) -> None:
    path = fake_codex(tmp_path, "codex-cli 0.44.0")
    assert read_version(str(path)) == ("codex-cli 0.44.0", "0.44.0")
    path.write_text("#!/bin/sh\necho 'codex-cli 0.130.0 '\n")
    os.utime(path, ns=(1, 1))
    assert read_version(str(path)) == ("codex-cli 0.130.0", "0.130.0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.117.0", (0, 117, 0)),
        ("0.99.0-linux-x64", (0, 99, 0)),
        ("1.2", None),
        ("", None),
        (None, None),
        ("v0.1.0", None),
    ],
)
def test_parse_version(text: str | None, expected: tuple[int, int, int] | None) -> None:
    assert release_of(text) == expected


def test_parse_version_line_takes_the_codex_cli_line() -> None:
    assert parse_version_line("WARNING: x\ncodex-cli 0.20.0\n") == ("codex-cli 0.20.0", "0.20.0")
    assert parse_version_line("codex-cli-exec 0.20.0\n") == (None, None)
