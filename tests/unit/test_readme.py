"""The README's two commands are what a newcomer runs; CI must run exactly the test one. Its tables of
the matrix's vocabulary and its Layout are checked against the registries and the package, so a new
credential setup, scenario, expectation kind, policy, sandbox mode or module cannot go undocumented."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

import harness
from harness.fakeapi.scenarios import SCENARIOS
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.expectations import EXPECTATIONS
from harness.suite.policies import POLICIES, CompletionPolicy
from harness.suite.sandboxes import SANDBOX_MODES, CodexSandbox

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _commands()
    assert len(commands) == 2, commands
    assert "codex-matrix run" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1] in ci.splitlines()


def table(first_header: str) -> list[list[str]]:
    """The body rows (cells stripped) of the README table whose first header cell is ``first_header``."""
    lines = README.splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(rf"\|\s*{re.escape(first_header)}\s*\|", line)]
    assert len(starts) == 1, f"the README has {len(starts)} tables headed '{first_header}'"
    rows = []
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_credential_setups_table_matches_the_registry() -> None:
    rows = table("setup")
    assert [names(r[0]) for r in rows] == [[n] for n in CREDENTIAL_SETUPS]
    for row in rows:
        setup = CREDENTIAL_SETUPS[names(row[0])[0]]
        assert (names(row[2]), names(row[3])) == ([setup.lane_source], [setup.api_sees]), row
        if setup.env_var:
            assert f"`{setup.env_var}`" in row[1], row


def test_scenarios_table_matches_the_registry() -> None:
    rows = table("scenario")
    listed = [n for r in rows for n in names(r[0])]
    assert sorted(listed) == sorted(SCENARIOS), "the README's scenario table and the registry differ"
    for row in rows:
        for name in names(row[0]):
            assert row[2].split()[0].strip(",;") == SCENARIOS[name].outcome.status, (name, row)


def test_expectation_kinds_table_matches_the_registry() -> None:
    rows = table("kind")
    assert [names(r[0]) for r in rows] == [[n] for n in EXPECTATIONS]
    for row in rows:
        kind = EXPECTATIONS[names(row[0])[0]]
        assert (row[1], row[2], names(row[3])) == (kind.tag or "–", kind.legend, [kind.native_state]), row


@pytest.mark.parametrize(("header", "registry"), [("policy", POLICIES), ("sandbox mode", SANDBOX_MODES)])
def test_policy_and_sandbox_tables_match_their_registries(
        header: str, registry: Mapping[str, CompletionPolicy | CodexSandbox]) -> None:
    rows = table(header)
    assert [names(r[0]) for r in rows] == [[n] for n in registry]
    for row in rows:
        assert row[1] == registry[names(row[0])[0]].summary, row


def test_layout_shows_every_package_and_root_module() -> None:
    layout = README.split("## Layout", 1)[1].split("```", 2)[1]
    package = Path(harness.__file__).resolve().parent
    for sub in sorted(p.parent.name for p in package.glob("*/__init__.py")):
        assert re.search(rf"^harness/{sub}\b", layout, re.M), f"Layout lacks harness/{sub}"
    for module in sorted(p.name for p in package.glob("*.py") if not p.name.startswith("__")):
        assert re.search(rf"(^|\s){re.escape(module)}\s", layout, re.M), f"Layout lacks {module}"
