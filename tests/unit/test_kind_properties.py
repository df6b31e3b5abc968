"""Contract tests choose expectation kinds by property: what each property selects, and that no
contract test names a kind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.suite.expectations import EXPECTATIONS, SELECTORS, ExpectationKind

CONTRACT = Path(__file__).resolve().parents[1] / "contract"


def selected(*properties: str) -> set[str]:
    return {name for name, kind in EXPECTATIONS.items() if kind.has(properties)}


def test_each_property_selects_the_kinds_it_describes() -> None:
    assert selected("full_contract") == {"native"}
    assert selected("thread_stream") == {"native", "auth-required", "auth-rejected"}
    lanes = {"lane-unsupported", "lane-silent-empty", "lane-base-url-cliff"}  # a foreign lane starts codex itself
    assert selected("starts_codex") == {"native", "legacy-fallback", "auth-required", "auth-rejected", *lanes}
    assert selected("lane_failure") == lanes
    assert selected("api_unreached") == {"lane-unsupported", "lane-base-url-cliff"}
    assert selected("answers_turns") == {"native", "legacy-fallback"}
    assert selected("auth_failure") == {"auth-required", "auth-rejected"}
    assert selected("legacy") == {"legacy-fallback"}
    assert selected("refuses_ephemeral") == {"ephemeral-unsupported", "legacy-fallback"}
    assert selected("thread_stream", "answers_turns") == selected("full_contract")


def test_a_new_kind_gets_the_tests_its_properties_call_for() -> None:
    """A kind nobody wrote a test for (a build that refuses a rejected key the legacy way, say) is
    selected by what it is, not by a list edited in every test file."""
    new = ExpectationKind("legacy-rejected", "X", "legacy 401", "legacy stream, key rejected", "degraded",
                          legacy=True, refuses_ephemeral=True)
    assert new.has(("legacy",)) and new.has(("starts_codex",)) and new.has(("refuses_ephemeral",))
    assert not new.has(("answers_turns",)) and not new.has(("thread_stream",))


def test_an_unknown_property_is_an_error_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown expectation-kind property 'natve'.*full_contract"):
        EXPECTATIONS["native"].has(("natve",))


def _markers(tree: ast.AST) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark":
            found.append((node.func.attr, [a.value for a in node.args if isinstance(a, ast.Constant)]))
    return found


def test_contract_tests_select_kinds_by_property_only() -> None:
    markers = [m for path in sorted(CONTRACT.glob("test_*.py")) for m in _markers(ast.parse(path.read_text()))]
    kinds = [args for name, args in markers if name == "kinds"]
    assert kinds, "no contract test selects kinds: the scan is broken"
    assert all(args and set(args) <= set(SELECTORS) for args in kinds)
    assert not [name for name, _ in markers if name == "expects"], "a contract test selects kinds by name"
