"""The grid every report shares: rows are builds, columns credential × policy, one symbol per status."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import CellResult
from harness.suite.expectations import EXPECTATIONS
from harness.suite.protocol import CellSpec

SYMBOL = {"pass": "✅", "fail": "❌", "error": "💥", "timeout": "⏱️", "xfail": "⚠️", "skip": "➖"}


def grid_axes(cells: Sequence[CellSpec]) -> tuple[list[str], list[tuple[str, str]]]:
    """Rows = versions; columns = credential × policy, in matrix order."""
    versions = list(dict.fromkeys(c.version for c in cells))
    columns = list(dict.fromkeys((c.credential, c.policy) for c in cells))
    return versions, columns


def cell_label(result: CellResult) -> str:
    """Short text for one grid cell: outcome symbol, passed/total tests, and the expectation if special."""
    passed = sum(1 for t in result.tests if t.outcome in ("pass", "xfail"))
    label = f"{SYMBOL.get(result.status, '?')} {passed}/{len(result.tests)}"
    kind = EXPECTATIONS.get(result.cell.expect)
    extra = kind.label if kind else result.cell.expect
    if extra:
        label += f" {extra}"
    if result.fixed:
        label += " fixed: remove the xfail rule"
    return label
