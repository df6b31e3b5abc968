"""What changed between two codex builds: their fingerprints and the contract tests' outcomes.

Each side is one build as a run saw it (:class:`Side`, taken from a :class:`~harness.results.RunResults`,
fresh or read back from a results.json), so a diff only ever compares observations: flags the build's
``exec --help`` lists, event and item types its stream showed, usage keys, declared tools, credential
sources honoured, session files per policy, normalised stderr lines, the model catalog it bundles — and,
for cells both sides ran, the tests whose outcome changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UserError
from harness.fingerprint import COMPARED
from harness.mdtext import Markdown
from harness.report.grid import Column, column_label, column_of
from harness.results import RunResults

#: Fingerprint lists compared as sets (order kept as observed), then single values compared as a whole:
#: key -> what the report calls it (the field table's compared facts).
LISTS: tuple[tuple[str, str], ...] = tuple((f.key, f.label) for f in COMPARED if f.is_list)
VALUES: tuple[tuple[str, str], ...] = tuple((f.key, f.label) for f in COMPARED if not f.is_list)

#: (the cell's column: credential, policy, sandbox, lane; test name). Keyed by credential and policy
#: alone, a run with lane cells or sandbox modes once diffed whichever cell of a pair came last.
TestKey = tuple[Column, str]


@dataclass
class Side:
    """One build as a run observed it."""

    label: str  # what the user named: "0.117.0" or "out/results.json:0.117.0"
    version: str
    build: dict[str, Any]
    tests: dict[TestKey, str] = field(default_factory=dict)  # → outcome
    #: the cell's column → (cell status, expectation)
    cells: dict[Column, tuple[str, str]] = field(default_factory=dict)


def side_of(results: RunResults, version: str, label: str | None = None) -> Side:
    """The side for ``version`` in ``results``; one-line error when the run has no fingerprint of it."""
    build = results.builds.get(version)
    if not build:
        have = ", ".join(results.builds) or "none"
        raise UserError(f"no fingerprint of {version} in that run (builds fingerprinted: {have}): "
                        "run it, or name a results.json that has it")
    side = Side(label=label or version, version=version, build=build)
    for r in results.cells:
        if r.cell.version != version:
            continue
        column = column_of(r.cell)
        side.cells[column] = (r.status, r.cell.expect)
        for t in r.tests:
            side.tests[(column, t.name)] = t.outcome
    return side


def _added_removed(old: list[Any], new: list[Any]) -> dict[str, list[Any]]:
    return {"added": [x for x in new if x not in old], "removed": [x for x in old if x not in new]}


def diff_sides(a: Side, b: Side) -> dict[str, Any]:
    """The JSON shape of a diff: only what changed, plus both labels."""
    lists: dict[str, dict[str, list[Any]]] = {}
    for key, _ in LISTS:
        change = _added_removed(list(a.build.get(key) or []), list(b.build.get(key) or []))
        if change["added"] or change["removed"]:
            lists[key] = change
    values = {key: {"old": a.build.get(key), "new": b.build.get(key)}
              for key, _ in VALUES if a.build.get(key) != b.build.get(key) and key != "version_line"}
    tests = [
        {**_where(k[0]), "test": k[1], "old": a.tests[k], "new": b.tests[k]}
        for k in sorted(set(a.tests) & set(b.tests))
        if a.tests[k] != b.tests[k]
    ]
    cells = []
    for column in sorted(set(a.cells) | set(b.cells)):
        old, new = a.cells.get(column), b.cells.get(column)
        only_old = sum(1 for k in a.tests if k[0] == column and k not in b.tests)
        only_new = sum(1 for k in b.tests if k[0] == column and k not in a.tests)
        if old != new or only_old or only_new:
            cells.append({**_where(column),
                          "old": {"status": old[0], "expected": old[1]} if old else None,
                          "new": {"status": new[0], "expected": new[1]} if new else None,
                          "tests_only_old": only_old, "tests_only_new": only_new})
    return {
        "old": {"label": a.label, "version": a.version, "version_line": a.build.get("version_line")},
        "new": {"label": b.label, "version": b.version, "version_line": b.build.get("version_line")},
        "fingerprint": {**lists, **values},
        "cells": cells,
        "tests": tests,
    }


def _where(column: Column) -> dict[str, str]:
    """A cell's place in the diff's JSON: its axes, and the label the Markdown shows."""
    credential, policy, sandbox, lane = column
    return {"cell": column_label(column), "credential": credential, "policy": policy, "sandbox": sandbox,
            "lane": lane}


def render_markdown(diff: dict[str, Any], mask: Callable[[str], str] | None = None) -> str:
    """The diff as Markdown; every value (labels, versions, test names, fingerprint values: they come from
    results files) is masked, then escaped for its place by :mod:`harness.mdtext`."""
    md = Markdown(mask)
    old, new = diff["old"], diff["new"]
    lines = [f"# codex {md.text(old['version'])} → {md.text(new['version'])}", ""]
    if old["label"] != old["version"] or new["label"] != new["version"]:
        lines += [f"from {md.code(old['label'])} to {md.code(new['label'])}", ""]
    lines += ["## Fingerprint", ""]
    changes = diff["fingerprint"]
    if not changes:
        lines.append("No change in what the two builds showed.")
    names = dict(LISTS + VALUES)
    for key, change in changes.items():
        if "added" in change:
            parts = [f"+ {md.code(x)}" for x in change["added"]] + [f"− {md.code(x)}" for x in change["removed"]]
            lines.append(f"- **{md.text(names[key])}**: " + ", ".join(parts))
        else:
            lines.append(f"- **{md.text(names[key])}**: {md.code(_show(change['old']))} → "
                         f"{md.code(_show(change['new']))}")
    lines += ["", "## Contract tests that changed outcome", ""]
    if diff["tests"]:
        lines += [f"| cell | test | {md.cell(old['version'])} | {md.cell(new['version'])} |",
                  "|---|---|---|---|"]
        lines += [f"| {md.cell(t['cell'])} | {md.code(t['test'], in_table=True)} "
                  f"| {md.cell(t['old'])} | {md.cell(t['new'])} |" for t in diff["tests"]]
    else:
        lines.append("None: every test both builds ran has the same outcome.")
    if diff["cells"]:
        lines += ["", "## Cells", "", f"| cell | {md.cell(old['version'])} | {md.cell(new['version'])} "
                  "| tests run on one side only |", "|---|---|---|---|"]
        for c in diff["cells"]:
            lines.append(f"| {md.cell(c['cell'])} | {md.cell(_cell(c['old']))} "
                         f"| {md.cell(_cell(c['new']))} | {c['tests_only_old']} only on {md.cell(old['version'])}, "
                         f"{c['tests_only_new']} only on {md.cell(new['version'])} |")
    return "\n".join(lines) + "\n"


def _cell(side: dict[str, str] | None) -> str:
    return f"{side['status']} (expected {side['expected']})" if side else "not run"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "{}"
    return str(value)
