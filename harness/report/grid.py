"""The grid every report shares: rows are builds, columns credential × policy, one symbol per status."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import CellResult
from harness.suite.expectations import EXPECTATIONS
from harness.suite.protocol import DEFAULT_SANDBOX, CellSpec

SYMBOL = {"pass": "✅", "fail": "❌", "error": "💥", "timeout": "⏱️", "xfail": "⚠️", "skip": "➖"}


Column = tuple[str, str, str]  # credential, policy, sandbox


def column_of(cell: CellSpec) -> Column:
    return cell.credential, cell.policy, cell.sandbox


def cell_key(cell: CellSpec) -> tuple[str, str, str, str]:
    """Where a cell sits in the grid: its row (version) and its column."""
    return (cell.version, *column_of(cell))


def column_label(column: Column, sep: str = " / ") -> str:
    """``credential / policy``, plus the sandbox mode when it is not the default."""
    credential, policy, sandbox = column
    parts = [credential, policy] + ([] if sandbox == DEFAULT_SANDBOX else [sandbox])
    return sep.join(parts)


def grid_axes(cells: Sequence[CellSpec]) -> tuple[list[str], list[Column]]:
    """Rows = versions; columns = credential × policy × sandbox, in matrix order."""
    versions = list(dict.fromkeys(c.version for c in cells))
    columns = list(dict.fromkeys(column_of(c) for c in cells))
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
