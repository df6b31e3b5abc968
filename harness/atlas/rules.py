"""Known regressions checked against the atlas: the range each xfail rule claims beside the range observed.

A rule is a claim about codex ("0.117.0-0.145.0 lose a command's completion"); the atlas runs the rule's
tests on every release, so it can say where the failure actually showed. For each rule, in the releases
the atlas observed:

* **claimed**: the releases the rule's ``when.versions`` selects (published releases only, as the atlas
  runs them);
* **observed**: the releases where a covered test failed as the rule describes (outcome ``xfail``), in
  any cell the rule applies to;
* **fixed**: the releases where a covered test passed against a strict rule (``xpass``).

A strict rule agrees when the two ranges are the same releases. A rule with a measured ``rate`` (a load
effect) only claims that failures stay inside its range. A disagreement is news: about codex (the rule
is wider or narrower than the truth) or about the fake world, and ``atlas`` exits 1 while one stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.matrix.schema import MatrixConfig, XFailRule


def _covered(config: MatrixConfig, rule: XFailRule, test: str, scenario: str, credential: str, policy: str,
             version: str) -> bool:
    """The rule applies to this test: it names it, and it is the first rule matching the cell and scenario
    (as the matrix applies them: harness.matrix.expand.known_regressions)."""
    if rule.tests is not None and test not in rule.tests:
        return False
    first = next((r for r in config.xfail if r.when.matches(version, credential, policy, scenario)), None)
    return first is rule


def _split(name: str) -> tuple[str, str]:
    """``test_tool_round_trip[tool-race]`` → (``test_tool_round_trip``, ``tool-race``)."""
    test, _, rest = name.partition("[")
    return test, rest.rstrip("]")


def _span(versions: Sequence[str]) -> str:
    if not versions:
        return "none"
    return versions[0] if len(versions) == 1 else f"{versions[0]}–{versions[-1]} ({len(versions)} releases)"


def rule_rows(config: MatrixConfig, records: Sequence[Mapping[str, Any]],
              observed: Sequence[str]) -> list[dict[str, Any]]:
    """One row per xfail rule: claimed and observed ranges over the releases the atlas observed."""
    by_version = {str(r.get("version")): r for r in records}
    rows = []
    for index, rule in enumerate(config.xfail):
        claimed, failed, fixed = [], [], []
        for version in observed:
            record = by_version.get(version) or {}
            matched = False
            cells = record.get("cells") or {}
            for key, tests in (record.get("tests") or {}).items():
                if (cells.get(key) or {}).get("unfinished"):
                    continue  # a suite cut short says nothing about the build (as in the timeline)
                credential, _, policy = str(key).partition("/")
                for name, outcome in (tests or {}).items():
                    test, scenario = _split(str(name))
                    if not _covered(config, rule, test, scenario, credential, policy, version):
                        continue
                    matched = True
                    if outcome == "xfail":
                        failed.append(version)
                    elif outcome == "xpass":
                        fixed.append(version)
            if matched:
                claimed.append(version)
        failed, fixed = sorted(set(failed), key=observed.index), sorted(set(fixed), key=observed.index)
        outside = [v for v in failed if v not in claimed]
        agrees = (failed == claimed and not fixed) if rule.strict else not outside
        rows.append({
            "rule": index + 1, "versions": rule.when.versions or "any", "tests": rule.tests or ["every test"],
            "strict": rule.strict, "reason": rule.reason.split(". ")[0][:160],
            "claimed": _span(claimed), "observed": _span(failed), "fixed_in": fixed, "agrees": agrees,
        })
    return rows


def disagreements(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [row for row in rows if not row["agrees"]]
