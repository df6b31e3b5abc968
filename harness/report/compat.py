"""The compatibility view of a lane: lane versions × builds, the outcome class of each pair and the first
contract test it failed, one grid per mode (issue 23). Pure functions over results; no Docker.

A pair's *outcome class* is how the lane's ``ok`` turn ended in the protocol's words (``ok``, ``EXIT``
= exit-nonzero, ``EMPTY`` = silent-empty, ``HANG``, ``CRASH``; docs/lane-protocol.md). Its *first failing
test* is the first lane contract test that failed when the pair was held to the full contract (the
compat run judges every pair as ``native``), so a reader sees how it breaks, not only that it does.
Beside it stands what matrix.yaml expects of the pair (``C`` base-URL cliff, …): a pair is *as expected*
when its outcome is one its expectation allows, and the command's exit status says whether all were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion

from harness.lanes.catalog import parse_lane
from harness.npmversion import version_key
from harness.results import CellResult
from harness.suite.expectations import EXPECTATIONS, LANE_OUTCOMES, NATIVE
from harness.suite.lanerun import read_result

SHORT = {"ok": "ok", "exit-nonzero": "EXIT", "silent-empty": "EMPTY", "hang": "HANG", "crash": "CRASH"}


@dataclass(frozen=True)
class Pair:
    """One lane version × build × mode, as the compat grid shows it."""

    lane_version: str
    mode: str
    build: str
    outcome: str  # a protocol outcome, or "?" when the run left no result (the cell's message says why)
    first_failing: str | None  # "test_name: message", or None when every test passed
    expected: str  # matrix.yaml's expectation kind for the pair
    error: str | None = None  # the run's own one-line error

    @property
    def as_expected(self) -> bool:
        if self.expected == NATIVE:
            return self.outcome == "ok" and self.first_failing is None
        return self.outcome in LANE_OUTCOMES.get(self.expected, ())


def _gist(message: str, result: CellResult) -> str:
    """A test's message without what the grid line already says (the exception name, the pair)."""
    text = message.removeprefix("AssertionError: ")
    head = f"{result.cell.lane} on codex {result.cell.version}, scenario "
    if text.startswith(head):
        text = text[len(head):].partition(": ")[2] or text
    return text


def pair_of(result: CellResult, expected: str, scenario: str = "ok") -> Pair:
    """The pair a compat cell's result describes (its ``scenario`` run's outcome class)."""
    lane = parse_lane(result.cell.lane)
    saved = read_result(Path(result.artifacts) / scenario) if result.artifacts else None
    outcome = str(saved.get("outcome")) if saved else "?"
    error = saved.get("error") if saved else (result.message.splitlines()[0] if result.message else None)
    failing = next((t for t in result.tests if t.outcome in ("fail", "error")), None)
    first = f"{failing.name}: {_gist(failing.message, result)}" if failing else None
    row = lane.version or (Path(lane.path).name if lane.path else lane.full)  # a script lane: its file
    return Pair(lane_version=row, mode=lane.mode, build=result.cell.version, outcome=outcome,
                first_failing=first, expected=expected, error=str(error) if error else None)


def _order(lane_version: str) -> tuple[int, Any, str]:
    """Lane versions in version order; a script lane's row (its file name, no version) after them, by name."""
    try:
        return 0, version_key(lane_version), lane_version
    except InvalidVersion:
        return 1, None, lane_version


def _cell_text(pair: Pair) -> str:
    """``ok``, ``HANG C`` (a base-URL cliff, as expected), ``EXIT!`` (not what matrix.yaml expects)."""
    kind = EXPECTATIONS.get(pair.expected)
    tag = kind.tag if kind else "?"
    return SHORT.get(pair.outcome, pair.outcome) + ("" if pair.as_expected else "!") + (f" {tag}" if tag else "")


def _answers(cells: dict[tuple[str, str], Pair], versions: list[str], builds: list[str], kind: str) -> list[str]:
    """The grid's answer in words for a one-column or one-row grid: which lane versions work with this
    build, or which builds work with this lane version (a pair works when its turn was answered)."""
    def works(version: str, build: str) -> bool:
        pair = cells.get((version, build))
        return pair is not None and pair.outcome == "ok" and pair.first_failing is None

    if len(builds) == 1:
        ok = [v for v in versions if works(v, builds[0])]
        return [f"  codex {builds[0]} works with {kind} {', '.join(ok) if ok else 'no version tried'}"]
    if len(versions) == 1:
        ok = [b for b in builds if works(versions[0], b)]
        return [f"  {kind}@{versions[0]} works with codex {', '.join(ok) if ok else 'no build tried'}"]
    return []


def render(pairs: Sequence[Pair], lane_kind: str, *, detail_chars: int = 160) -> str:
    """The grids (one per mode: rows lane versions, columns builds), then one line per pair that did not
    answer: its outcome, the first failing test, and what matrix.yaml expects of it."""
    lines: list[str] = []
    builds = sorted({p.build for p in pairs}, key=version_key)
    versions = sorted({p.lane_version for p in pairs}, key=_order)
    width = max(8, *(len(b) for b in builds)) if builds else 8
    label = max(9, *(len(v) for v in versions)) if versions else 9
    for mode in dict.fromkeys(p.mode for p in pairs):
        cells = {(p.lane_version, p.build): p for p in pairs if p.mode == mode}
        lines.append(f"{lane_kind}, mode {mode}: outcome of one turn (rows: {lane_kind} version; columns: codex build)")
        lines.append(f"{'':>{label}} " + " ".join(f"{b:>{width}}" for b in builds))
        for version in versions:
            row = []
            for build in builds:
                pair = cells.get((version, build))
                text = "-" if pair is None else _cell_text(pair)
                row.append(f"{text:>{width}}")
            lines.append(f"{version:>{label}} " + " ".join(row))
        lines.extend(_answers(cells, versions, builds, lane_kind))
        lines.append("")
    lines.append("legend: ok answer · EXIT reported failure · EMPTY no answer, no error · HANG no result in time · "
                 "CRASH the lane broke · tag = matrix.yaml's expectation (" +
                 ", ".join(f"{k.tag} {k.legend}" for k in EXPECTATIONS.values() if k.name in LANE_OUTCOMES) +
                 ") · ! not what matrix.yaml expects")
    failing = [p for p in pairs if p.first_failing or p.outcome != "ok"]
    if failing:
        lines.append("")
        lines.append("first failing test per pair that did not answer:")
        for p in sorted(failing, key=lambda p: (p.mode, _order(p.lane_version), version_key(p.build))):
            what = p.first_failing or p.error or "no test failed"
            if len(what) > detail_chars:
                what = what[: detail_chars - 1] + "…"
            kind = EXPECTATIONS.get(p.expected)
            expected = f"expected: {kind.label if kind and kind.label else p.expected}"
            lines.append(f"  {lane_kind}@{p.lane_version} {p.mode} × codex {p.build}: {SHORT.get(p.outcome, p.outcome)}"
                         f" ({expected}{'' if p.as_expected else ', NOT as expected'}) — {what}")
    return "\n".join(lines)
