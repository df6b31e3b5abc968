"""The grid every report shares: rows are builds, columns credential × policy, one symbol per status."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import CellResult
from harness.suite.expectations import EXPECTATIONS
from harness.suite.protocol import DEFAULT_SANDBOX, NOT_APPLICABLE, PYTHON_LANE, CellSpec

SYMBOL = {"pass": "✅", "fail": "❌", "error": "💥", "timeout": "⏱️", "xfail": "⚠️", "skip": "➖"}
#: A contract test that does not apply to the cell's lane (it lacks a capability the test needs).
NA_SYMBOL = "∅"


Column = tuple[str, str, str, str]  # credential, policy, sandbox, lane


def column_of(cell: CellSpec) -> Column:
    return cell.credential, cell.policy, cell.sandbox, cell.lane


def cell_key(cell: CellSpec) -> tuple[str, str, str, str, str]:
    """Where a cell sits in the grid: its row (version) and its column."""
    return (cell.version, *column_of(cell))


def lane_short(lane: str) -> str:
    """A foreign lane in a narrow header: ``codex-sdk@0.163.0:documented`` → ``sdk 0.163.0 doc``."""
    kind, _, rest = lane.partition("@")
    version, _, mode = rest.partition(":")
    return " ".join(x for x in (kind.removeprefix("codex-"), version, mode[:4]) if x)


def column_label(column: Column, sep: str = " / ") -> str:
    """``credential / policy``, plus the sandbox mode when it is not the default and the lane when it is
    not ours."""
    credential, policy, sandbox, lane = column
    parts = [credential, policy] + ([] if sandbox == DEFAULT_SANDBOX else [sandbox]) + \
        ([] if lane == PYTHON_LANE else [lane])
    return sep.join(parts)


def grid_axes(cells: Sequence[CellSpec]) -> tuple[list[str], list[Column]]:
    """Rows = versions; columns = credential × policy × sandbox × lane, in matrix order."""
    versions = list(dict.fromkeys(c.version for c in cells))
    columns = list(dict.fromkeys(column_of(c) for c in cells))
    return versions, columns


def tests_passed(result: CellResult) -> tuple[int, int]:
    """(tests passed or xfailed, tests that judged the cell): a not-applicable test judged nothing."""
    judged = [t for t in result.tests if t.outcome != NOT_APPLICABLE]
    return sum(1 for t in judged if t.outcome in ("pass", "xfail")), len(judged)


def cell_label(result: CellResult) -> str:
    """Short text for one grid cell: outcome symbol, passed/total tests, and the expectation if special."""
    passed, judged = tests_passed(result)
    label = f"{SYMBOL.get(result.status, '?')} {passed}/{judged}"
    kind = EXPECTATIONS.get(result.cell.expect)
    extra = kind.label if kind else result.cell.expect
    if extra:
        label += f" {extra}"
    if result.fixed:
        label += " fixed: remove the xfail rule"
    return label
