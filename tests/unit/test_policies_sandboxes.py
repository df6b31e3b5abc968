"""Completion policies and sandbox modes are registries, like the credential setups: one owner each.

The lane keeps its own ``Literal`` types (it is embeddable and imports nothing of the host), so the
registries must name exactly what the lane accepts; everything on the host that lists or describes a
policy or a mode reads the registries.
"""

from __future__ import annotations

import argparse
from typing import get_args

import pytest

from harness.cli.main import build_parser, main
from harness.images import seccomp
from harness.lane.events import Policy, SandboxMode
from harness.matrix.schema import AXIS_VALUES, MatrixConfig
from harness.suite.policies import DEFAULT_POLICY, POLICIES, is_ephemeral
from harness.suite.sandboxes import DEFAULT_SANDBOX, SANDBOX_MODES, SANDBOXED


def test_registries_name_what_the_lane_accepts() -> None:
    assert set(POLICIES) == set(get_args(Policy))
    assert set(SANDBOX_MODES) == set(get_args(SandboxMode))
    assert DEFAULT_POLICY in POLICIES and DEFAULT_SANDBOX in SANDBOX_MODES


def test_entries_are_well_formed() -> None:
    for registry in (POLICIES, SANDBOX_MODES):
        shorts = [e.short for e in registry.values()]
        assert len(set(shorts)) == len(shorts), shorts  # grid headers tell columns apart
        for name, entry in registry.items():
            assert entry.name == name and entry.short and entry.summary
    assert [p for p in POLICIES if is_ephemeral(p)] == ["ephemeral"]
    assert not is_ephemeral("no-such-policy")
    assert not SANDBOX_MODES[DEFAULT_SANDBOX].sandboxed  # the default never needs the seccomp profile


def test_the_matrix_validates_against_the_registries() -> None:
    assert AXIS_VALUES["policies"] == tuple(POLICIES)
    assert AXIS_VALUES["sandboxes"] == tuple(SANDBOX_MODES)
    config = MatrixConfig(versions=["0.117.0"])
    assert config.policies == list(POLICIES) and config.sandboxes == [DEFAULT_SANDBOX]


def test_only_sandboxed_modes_get_the_seccomp_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seccomp, "codex_sandbox_profile", lambda: "{}")
    assert seccomp.SANDBOXED is SANDBOXED
    for name, mode in SANDBOX_MODES.items():
        assert bool(seccomp.security_opt({name})) == mode.sandboxed, name


def _subcommand(name: str) -> argparse.ArgumentParser:
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    parser: argparse.ArgumentParser = sub.choices[name]
    return parser


@pytest.mark.parametrize("command", ["run", "list"])
@pytest.mark.parametrize(("flag", "axis"), [("--policies", "policies"), ("--sandboxes", "sandboxes"),
                                            ("--credentials", "credentials"), ("--scenarios", "scenarios")])
def test_help_names_every_registered_value(command: str, flag: str, axis: str) -> None:
    [action] = [a for a in _subcommand(command)._actions if flag in a.option_strings]
    for value in AXIS_VALUES[axis]:
        assert value in (action.help or ""), (flag, value)


@pytest.mark.parametrize("argv", [["lane", "project", "--help"], ["resolve", "--help"]])
def test_single_policy_flags_offer_every_policy(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(argv)
    assert "{" + ",".join(POLICIES) + "}" in capsys.readouterr().out


def test_lane_run_has_one_flag_per_policy() -> None:
    for name in POLICIES:
        args = build_parser().parse_args(["lane", "run", "--prompt", "hi", f"--{name}"])
        assert args.policy == name
    assert build_parser().parse_args(["lane", "run", "--prompt", "hi"]).policy == DEFAULT_POLICY
