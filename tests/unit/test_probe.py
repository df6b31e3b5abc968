"""The capability probe on real ``codex exec --help`` texts (recorded by tests/fixtures/record.py) and
on a real executable that answers like codex does."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lane import probe as probe_mod
from harness.lane.executable import discover_executable
from harness.lane.probe import capabilities_from_help, decide_protocol, parse_help_flags, probe

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def help_text(version: str) -> str:
    return (FIXTURES / f"codex-{version}" / "exec-help.txt").read_text()


# version -> (protocol, supports_ephemeral, flags that must be present, flags that must be absent)
RECORDED = {
    "0.20.0": ("legacy", False, {"--json", "--skip-git-repo-check", "--cd", "--config", "--full-auto"},
               {"--ephemeral", "--output-schema", "--last"}),
    "0.42.0": ("legacy", False, {"--json", "--experimental-json", "--include-plan-tool"}, {"--ephemeral"}),
    "0.44.0": ("thread-events", False, {"--json", "--output-schema", "--include-plan-tool"},
               {"--ephemeral", "--experimental-json"}),
    "0.98.0": ("thread-events", False, {"--json", "--add-dir", "--enable"}, {"--ephemeral"}),
    "0.117.0": ("thread-events", True, {"--json", "--ephemeral", "--full-auto"}, {"--strict-config"}),
    "0.169.0": ("thread-events", True, {"--json", "--ephemeral", "--strict-config", "--worktree", "--trust"},
                {"--full-auto", "--last"}),
}


@pytest.mark.parametrize("version", sorted(RECORDED))
def test_recorded_help(version: str) -> None:
    protocol, ephemeral, present, absent = RECORDED[version]
    caps = capabilities_from_help(version, help_text(version))
    assert caps.protocol == protocol
    assert caps.supports_ephemeral is ephemeral
    assert present <= set(caps.flags)
    assert not absent & set(caps.flags)
    assert list(caps.flags) == sorted(set(caps.flags))


def test_flags_only_from_option_lines() -> None:
    text = (
        "Options:\n"
        "  -c, --config <key=value>\n"
        "          Use --not-a-flag here; see `--sandbox workspace-write`\n"
        "      --json\n"
        "          Print events\n"
        "--leftmost-is-not-an-option\n"
    )
    assert parse_help_flags(text) == ("--config", "--json")


@pytest.mark.parametrize(
    ("version", "flags", "expected"),
    [
        ("0.44.0", ("--json",), "thread-events"),
        ("0.43.9", ("--json",), "legacy"),
        ("0.42.0", ("--json", "--experimental-json"), "legacy"),
        ("0.169.0", ("--json", "--experimental-json"), "legacy"),  # help proves pre-removal
        ("1.0.0", (), "thread-events"),
        (None, ("--json", "--ephemeral"), "thread-events"),
        (None, ("--json",), "unknown"),
        ("garbage", ("--json",), "unknown"),
    ],
)
def test_decide_protocol(version: str | None, flags: tuple[str, ...], expected: str) -> None:
    assert decide_protocol(version, flags) == expected


def fake_codex(directory: Path, version: str, help_body: str) -> Path:
    """Answers ``--version`` and ``exec --help`` like codex and counts how often help was asked."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "help.txt").write_text(help_body)
    path = directory / "codex"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "codex-cli {version}"; exit 0; fi\n'
        f'if [ "$1 $2" = "exec --help" ]; then echo x >> "{directory}/calls"; cat "{directory}/help.txt"; exit 0; fi\n'
        "exit 2\n"
    )
    path.chmod(0o755)
    return path


def calls(directory: Path) -> int:
    log = directory / "calls"
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture()
def clean_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_mod, "_by_digest", {})


@pytest.mark.usefixtures("clean_cache")
def test_probe_real_executable_cached_in_process_and_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    path = fake_codex(bindir, "0.117.0", help_text("0.117.0"))
    exe = discover_executable(str(path), {})
    assert exe is not None and exe.version == "0.117.0"
    cache_dir = tmp_path / "cache"

    caps = probe(exe, cache_dir=cache_dir)
    assert (caps.protocol, caps.supports_ephemeral) == ("thread-events", True)
    assert caps == capabilities_from_help("0.117.0", help_text("0.117.0"))
    assert calls(bindir) == 1
    assert probe(exe, cache_dir=cache_dir) is caps and calls(bindir) == 1

    monkeypatch.setattr(probe_mod, "_by_digest", {})  # a new process: only the disk cache remains
    assert probe(exe, cache_dir=cache_dir) == caps
    assert calls(bindir) == 1
    assert len(list(cache_dir.glob("codex-probe-*.json"))) == 1


@pytest.mark.usefixtures("clean_cache")
def test_same_bytes_elsewhere_share_the_cache_other_bytes_do_not(tmp_path: Path) -> None:
    first = fake_codex(tmp_path / "a", "0.98.0", help_text("0.98.0"))
    exe_a = discover_executable(str(first), {})
    assert exe_a is not None
    assert probe(exe_a).supports_ephemeral is False
    changed = fake_codex(tmp_path / "b", "0.169.0", help_text("0.169.0"))
    exe_b = discover_executable(str(changed), {})
    assert exe_b is not None
    assert probe(exe_b).supports_ephemeral is True
    assert calls(tmp_path / "a") == 1 and calls(tmp_path / "b") == 1


@pytest.mark.usefixtures("clean_cache")
def test_failed_help_gives_no_flags_and_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "codex"
    path.write_text('#!/bin/sh\n[ "$1" = "--version" ] && echo "codex-cli 0.117.0" && exit 0\nexit 1\n')
    path.chmod(0o755)
    exe = discover_executable(str(path), {})
    assert exe is not None
    caps = probe(exe)
    assert caps.flags == () and not caps.supports_ephemeral and caps.protocol == "thread-events"
    assert probe_mod._by_digest == {}
