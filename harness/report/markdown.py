"""``report.md``: the grid, the cells that missed, known regressions, expectations, build fingerprints.

Every value (ids, statuses, messages, fingerprint values: much of it from shards other jobs wrote) is
masked, then escaped for its place by :mod:`harness.mdtext`; only this module's own words are raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from harness.fingerprint import FIELDS
from harness.lanes.catalog import parse_lane
from harness.mdtext import Markdown
from harness.redact import Redactor
from harness.report.compat import pair_of, render
from harness.report.grid import SYMBOL, Column, cell_key, cell_label, column_label, grid_axes
from harness.results import CellResult, RunResults
from harness.suite.protocol import CONTAINER_WORKROOT

_CELL_HOME = re.compile(re.escape(CONTAINER_WORKROOT) + r"/\S+?/codex-home")


def render_markdown(results: RunResults, mask: Callable[[str], str] | None = None) -> str:
    """The report; ``mask`` (the redactor) is applied to each value before it is escaped."""
    md = Markdown(mask)
    cells = [r.cell for r in results.cells]
    by_key = {cell_key(r.cell): r for r in results.cells}
    versions, columns = grid_axes(cells)
    summary = results.summary()
    lines = [
        "# codex-native matrix report",
        "",
        f"Started {results.started.isoformat(timespec='seconds')}, took {results.duration_s:.0f} s. "
        + ", ".join(f"{k}: {v}" for k, v in summary.items() if v)
        + (". **Every cell met its expectation.**" if results.ok else
           ". **Interrupted: cells that had not finished are errors.**" if results.interrupted else
           ". **Some cells did not meet their expectation.**"),
        "",
        "## Grid",
        "",
        "| version | " + " | ".join(md.cell(column_label(c)) for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for version in versions:
        row = [md.code(version, in_table=True)]
        for column in columns:
            r = by_key.get((version, *column))
            row.append(md.cell(cell_label(r)) if r else "")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Legend: " + ", ".join(f"{v} {k}" for k, v in SYMBOL.items())
              + "; n/m = tests passed / run; a note names a non-native expectation.", ""]
    lines += _resolver_grid(results, versions, columns, by_key, md)
    lines += _lane_compat(results, md)
    lines += _problems(results, md)
    lines += _expectations(results, md)
    lines += _fingerprints(results, md)
    return "\n".join(lines) + "\n"


def _lane_compat(results: RunResults, md: Markdown) -> list[str]:
    """Per foreign lane kind, the compat grid (``codex-matrix compat``'s): each pair's outcome class."""
    by_kind: dict[str, list[CellResult]] = {}
    for r in results.cells:
        if r.cell.foreign:
            by_kind.setdefault(parse_lane(r.cell.lane).kind, []).append(r)
    lines: list[str] = []
    for kind, cells in by_kind.items():
        text = render([pair_of(r, r.cell.expect, scenario="ok" if "ok" in r.cell.scenarios else r.cell.scenarios[0])
                       for r in cells], kind)
        lines += [f"## Lane compatibility: {md.text(kind)}", "", *md.fence(text), ""]
    return lines


def _resolver_grid(results: RunResults, versions: list[str], columns: list[Column],
                   by_key: dict[tuple[str, str, str, str, str], CellResult], md: Markdown) -> list[str]:
    """What backend resolution decided in each cell's container, with its real binary."""
    if not any(r.resolver for r in results.cells):
        return []
    lines = [
        "## Backend resolution",
        "",
        "codex-native requested with `CODEX_NATIVE_LANE=1` and the cell's credential setup, against the "
        "container's real binary: native state → backend used.",
        "",
        "| version | " + " | ".join(md.cell(column_label(c)) for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for version in versions:
        row = [md.code(version, in_table=True)]
        for column in columns:
            r = by_key.get((version, *column))
            decision = r.resolver if r else None
            if decision:
                row.append(md.cell(f"{decision.get('native', {}).get('state')} → {decision.get('resolved')}"))
            else:
                row.append("")
        lines.append("| " + " | ".join(row) + " |")
    reasons = dict.fromkeys(
        _CELL_HOME.sub("<the cell's CODEX_HOME>", str(r.resolver.get("native", {}).get("reason")))
        for r in results.cells if r.resolver and r.resolver.get("native", {}).get("state") != "ready"
    )
    if reasons:
        lines += ["", "Reasons given:", ""] + [f"- {md.text(reason)}" for reason in list(reasons)[:12]]
    return [*lines, ""]


def _problems(results: RunResults, md: Markdown) -> list[str]:
    bad = [r for r in results.cells if not r.met]
    xf = [r for r in results.cells if any(t.outcome in ("xfail", "xpass") for t in r.tests)]
    lines: list[str] = []
    if bad:
        lines += ["## Cells that missed their expectation", ""]
        for r in bad:
            lines.append(f"### {md.code(r.cell.id)} — {md.text(r.status)} (expected {md.text(r.cell.expect)})")
            for t in r.tests:
                if t.outcome in ("fail", "error"):
                    lines.append(f"- {md.code(t.name)}: {md.text(t.message or t.outcome)}")
            if r.message:
                lines += ["", *md.fence(r.message.strip()), ""]
            if r.artifacts:
                lines.append(f"- artifacts: {md.code(r.artifacts)}")
            lines.append(f"- reproduce: {md.code(repro_command(r))}")
            lines.append("")
    if xf:
        groups: dict[tuple[str, str, str], list[str]] = {}
        for r in xf:
            for t in r.tests:
                if t.outcome in ("xfail", "xpass"):
                    groups.setdefault((t.outcome, t.name, t.message), []).append(md.code(r.cell.id))
        lines += ["## Known regressions (xfail)", ""]
        for (outcome, name, message), cells in groups.items():
            verdict = "xfail" if outcome == "xfail" else "**passed — looks fixed**"
            lines.append(f"- {md.code(name)} {verdict} in {len(cells)} cells: {md.text(message)}")
            lines.append(f"  - {', '.join(cells)}")
        lines.append("")
    return lines


def repro_command(result: CellResult) -> str:
    """The command that runs this cell again, narrowed to the scenarios that missed (all when none says)."""
    missed = {t.scenario for t in result.tests if t.outcome in ("fail", "error", "xpass") and t.scenario}
    scenarios = [s for s in result.cell.scenarios if s in missed]
    return f"codex-matrix repro {result.cell.id}" + (f" --scenario {','.join(scenarios)}" if scenarios else "")


def _expectations(results: RunResults, md: Markdown) -> list[str]:
    reasons = dict.fromkeys((r.cell.expect, r.cell.expect_reason) for r in results.cells
                            if r.cell.expect != "native")
    if not reasons:
        return []
    lines = ["## Expectations", ""]
    lines += [f"- **{md.text(expect)}**: {md.text(reason)}" for expect, reason in reasons]
    return [*lines, ""]


def _fingerprints(results: RunResults, md: Markdown) -> list[str]:
    """One row per build, one column per fact the field table gives a report.md column."""
    if not results.builds:
        return []
    columns = [f for f in FIELDS if f.column is not None]
    lines = [
        "## Build fingerprints",
        "",
        "| build | " + " | ".join(str(f.column) for f in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for version, b in results.builds.items():
        cols = [f.cell_text(b) for f in columns]
        lines.append(f"| {md.code(version, in_table=True)} | " + " | ".join(md.cell(c) for c in cols) + " |")
    return [*lines, ""]


def write_markdown(results: RunResults, out_dir: Path, redactor: Redactor) -> Path:
    """Each value is masked before escaping; the final pass over the text is a net for a value missed."""
    path = out_dir / "report.md"
    path.write_text(redactor(render_markdown(results, redactor)), encoding="utf-8")
    return path
