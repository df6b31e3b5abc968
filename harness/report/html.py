"""``report.html``: the grid in colour, filters, and every cell's evidence one click away, in one file.

Self-contained on purpose (inline CSS and JS, no fonts, no network), so it opens from a CI artifact, a
mail attachment or a laptop offline. The grid, the missed cells and the build fingerprints are plain
HTML (readable with scripts off, and by :mod:`html.parser` in the tests); what a cell opens to (its
contract tests and messages, and per scenario the lane's sign-off, transcript rows, request journal and
stderr, plus the resolver decision) is one JSON block that the script renders on click.

The evidence is read from each cell's artifacts directory and size-capped so the default matrix stays
far below 2 MB: every cell gets a share of :data:`DETAIL_BUDGET` (a cell that missed its expectation
weighs :data:`MISSED_WEIGHT` times more), text is cut with a marker that names the file holding the
rest. Every string passes the redactor before it is escaped or serialised (never after: a mask on
escaped HTML or serialised JSON can miss a secret or break the markup around it).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.fingerprint import FIELDS, changed
from harness.redact import Redactor
from harness.report.grid import cell_key, column_label, grid_axes, tests_passed
from harness.results import CellResult, RunResults
from harness.safepath import join_under
from harness.suite.expectations import EXPECTATIONS
from harness.suite.protocol import JOURNAL_FILE, STDERR_FILE, SUMMARY_FILE, TRANSCRIPT_FILE

DETAIL_BUDGET = 1_200_000  # bytes of cell evidence in the whole file
MISSED_WEIGHT = 4
CELL_MIN, CELL_MAX = 1_500, 120_000  # bytes of evidence one cell may take
TEXT_MAX = 300  # characters of one transcript row, journal entry or test message
READ_MAX = 256 * 1024  # bytes read from one artifact file
STATIC = Path(__file__).resolve().parent / "static"  # report.css and report.js, inlined into every page
STATUS_COLOUR = {"pass": "#2e7d32", "xfail": "#b58900", "fail": "#c62828", "error": "#8e0000",
                 "timeout": "#e65100", "skip": "#757575"}
_SUMMARY_KEYS = ("thread_status", "status_reason", "exit_code", "timed_out", "refused", "history_completeness",
                 "usage_authority", "final_text", "credential_source", "protocol")


def _cut(text: str, limit: int = TEXT_MAX) -> str:
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read(path: Path) -> str | None:
    """At most READ_MAX of a regular file; a symlink (a planted one could lead anywhere) reads as absent."""
    try:
        if path.is_symlink():
            return None
        with path.open("rb") as fh:
            data = fh.read(READ_MAX + 1)
    except OSError:
        return None
    text = data[:READ_MAX].decode("utf-8", errors="replace")
    return text + ("\n…" if len(data) > READ_MAX else "")


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return str(block)
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return f"tool_use {block.get('name')} {json.dumps(block.get('input'), ensure_ascii=False)}"
    if kind == "tool_result":
        return f"tool_result {block.get('content')!s}" + (" (error)" if block.get("is_error") else "")
    return json.dumps(block, ensure_ascii=False)


def transcript_row(row: dict[str, Any]) -> list[str]:
    """One projected row as [kind, text]: ``system/codex_native_warning``, the text a reader would show."""
    kind = str(row.get("type"))
    if row.get("subtype"):
        kind += f"/{row['subtype']}"
    message = row.get("message")
    content = message.get("content") if isinstance(message, dict) else row.get("content")
    if isinstance(content, list):
        text = " | ".join(_block_text(b) for b in content)
    else:
        text = str(content if content is not None else "")
    if isinstance(message, dict) and isinstance(message.get("usage"), dict):
        text += f"  usage {json.dumps(message['usage'], separators=(',', ':'))}"
    return [kind, _cut(text)]


def _journal_row(entry: Any) -> str:
    if not isinstance(entry, dict):
        return _cut(str(entry))
    parts = [f"{entry.get('method')} {entry.get('status')}", f"credential={entry.get('credential')}",
             f"model={entry.get('model')}"]
    if entry.get("tool_called"):
        parts.append(f"tool={entry['tool_called']}")
    if entry.get("has_tool_output"):
        parts.append("with tool output")
    if entry.get("held_s"):
        parts.append(f"held {entry['held_s']} s")
    return _cut(" ".join(parts))


def _load_json(path: Path) -> Any:
    text = _read(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


class _Budget:
    """Bytes left for one cell's evidence; items that do not fit become a marker naming the file."""

    def __init__(self, size: int) -> None:
        self.left = size

    def take(self, items: list[Any], where: str) -> list[Any]:
        kept: list[Any] = []
        for i, item in enumerate(items):
            cost = len(json.dumps(item, ensure_ascii=False)) + 1
            if cost > self.left and kept:
                kept.append(["…", f"{len(items) - i} more in {where}"] if isinstance(item, list)
                            else f"… {len(items) - i} more in {where}")
                break
            self.left -= cost
            kept.append(item)
        return kept


def scenario_evidence(directory: Path, budget: _Budget) -> dict[str, Any]:
    """What one (cell, scenario) lane run left: sign-off summary, transcript rows, journal, stderr."""
    out: dict[str, Any] = {}
    summary = _load_json(directory / SUMMARY_FILE)
    if isinstance(summary, dict):
        out["summary"] = {k: summary[k] for k in _SUMMARY_KEYS if summary.get(k) not in (None, "", [], {})}
    text = _read(directory / TRANSCRIPT_FILE)
    if text is not None:
        rows = []
        for line in text.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                rows.append(["unparseable", _cut(line)])
                continue
            rows.append(transcript_row(row) if isinstance(row, dict) else ["not-an-object", _cut(line)])
        out["rows"] = budget.take(rows, f"{directory.name}/{TRANSCRIPT_FILE}")
    journal = _load_json(directory / JOURNAL_FILE)
    if isinstance(journal, list):
        out["journal"] = budget.take([_journal_row(e) for e in journal], f"{directory.name}/{JOURNAL_FILE}")
    stderr = _read(directory / STDERR_FILE)
    if stderr and stderr.strip():
        lines = [_cut(line) for line in stderr.splitlines() if line.strip()]
        out["stderr"] = budget.take(lines, f"{directory.name}/{STDERR_FILE}")
    return out


def _resolver(decision: dict[str, Any] | None) -> dict[str, Any] | None:
    if not decision:
        return None
    native = decision.get("native")
    native = native if isinstance(native, dict) else {}
    keys = ("requested", "resolved", "state", "reason", "fallback_from", "policy")
    out = {k: decision.get(k) for k in keys if decision.get(k) is not None}
    out["native"] = {k: native.get(k) for k in ("state", "reason", "credential_source", "credential_origin",
                                                 "protocol") if native.get(k) is not None}
    return out


def cell_evidence(result: CellResult, names: dict[str, int], size: int) -> dict[str, Any]:
    """A cell's details for the page: tests (names interned in ``names``), resolver, scenarios' evidence."""
    budget = _Budget(size)
    tests = []
    for t in result.tests:
        index = names.setdefault(t.name, len(names))
        tests.append([index, t.outcome, _cut(t.message, TEXT_MAX * 2)] if t.message else [index, t.outcome])
    budget.left -= len(json.dumps(tests))
    artifacts = Path(result.artifacts) if result.artifacts else None
    scenarios: dict[str, Any] = {}
    names_left = len(result.cell.scenarios)
    for scenario in result.cell.scenarios:  # each scenario gets an even share; what one leaves, the next may use
        entry: dict[str, Any] = {}
        if scenario in result.lane_s:
            entry["lane_s"] = round(result.lane_s[scenario], 2)
        # the scenario names a directory below the cell's artifacts, never a path of its own
        evidence = join_under(artifacts, scenario) if artifacts is not None else None
        if evidence is not None and evidence.is_dir() and not evidence.is_symlink():
            share = _Budget(max(0, budget.left) // names_left)
            entry.update(scenario_evidence(evidence, share))
            budget.left -= max(0, budget.left) // names_left - share.left
        names_left -= 1
        scenarios[scenario] = entry
    return {
        "id": result.cell.id, "status": result.status, "expected": result.cell.expect,
        "expected_reason": result.cell.expect_reason, "message": _cut(result.message, 2000),
        "unfinished": result.unfinished, "artifacts": result.artifacts, "tests": tests,
        "resolver": _resolver(result.resolver), "scenarios": scenarios,
        "known": {s: r.reason for s, r in result.cell.known.items()},
    }


def cell_budgets(cells: Sequence[CellResult]) -> list[int]:
    weights = [MISSED_WEIGHT if not c.met else 1 for c in cells]
    total = sum(weights) or 1
    return [max(CELL_MIN, min(CELL_MAX, DETAIL_BUDGET * w // total)) for w in weights]


def fingerprint_changes(builds: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """version → what changed from the build before it, on the facts two builds are compared on
    (list facts: +added −removed; others: old → new)."""
    changes: dict[str, list[str]] = {}
    previous: dict[str, Any] | None = None
    for version, fp in builds.items():
        if previous is not None:
            notes = []
            for field, old, new in changed(previous, fp):
                if isinstance(old, list) and isinstance(new, list):
                    added = [str(v) for v in new if v not in old]
                    gone = [str(v) for v in old if v not in new]
                    notes.append(f"{field.key}: " + " ".join([*(f"+{v}" for v in added), *(f"−{v}" for v in gone)]))
                else:
                    notes.append(f"{field.key}: {json.dumps(old)} → {json.dumps(new)}")
            changes[version] = notes
        previous = fp
    return changes


#: Mask, then escape, one value at a time.
Esc = Callable[[object], str]


def escaper(mask: Callable[[str], str]) -> Esc:
    """Each value masked, then HTML-escaped. Masking escaped HTML instead could miss a secret that an
    entity split (``api_key=&quot;…&quot;``) or eat an entity or a closing tag next to it."""
    return lambda value: html.escape(mask(str(value)), quote=True)


def _checks(name: str, values: Sequence[str], esc: Esc) -> str:
    boxes = "".join(f'<label><input type="checkbox" data-filter="{name}" value="{esc(v)}" checked> {esc(v)}</label>'
                    for v in values)
    return f'<fieldset><legend>{name}</legend>{boxes}</fieldset>'


def _grid(results: RunResults, esc: Esc) -> str:
    versions, columns = grid_axes([r.cell for r in results.cells])
    by_key = {cell_key(r.cell): r for r in results.cells}
    head = "".join(f'<th data-credential="{esc(c)}" data-policy="{esc(p)}">'
                   + "<br>".join(esc(x) for x in column_label((c, p, s, ln)).split(" / ")) + "</th>"
                   for c, p, s, ln in columns)
    rows = []
    for version in versions:
        tds = []
        for credential, policy, sandbox, lane in columns:
            r = by_key.get((version, credential, policy, sandbox, lane))
            coords = f'data-credential="{esc(credential)}" data-policy="{esc(policy)}"'
            if r is None:
                tds.append(f'<td class="empty" {coords}></td>')
                continue
            kind = EXPECTATIONS.get(r.cell.expect)
            passed, judged = tests_passed(r)
            note = kind.label if kind and kind.label else ("" if kind else r.cell.expect)
            title = f"{r.cell.id}: {r.status}, expected {r.cell.expect}"
            tds.append(
                f'<td class="cell s-{esc(r.status)}{"" if r.met else " missed"}" {coords} '
                f'data-status="{esc(r.status)}" data-id="{esc(r.cell.id)}" title="{esc(title)}" tabindex="0">'
                f'{esc(r.status)} {passed}/{judged}'
                + (f' <small>{esc(note)}</small>' if note else "") + "</td>")
        rows.append(f'<tr data-version="{esc(version)}"><th>{esc(version)}</th>{"".join(tds)}</tr>')
    return (f'<table id="grid"><thead><tr><th>build</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _fingerprints(builds: dict[str, dict[str, Any]], esc: Esc) -> str:
    """One row per build, one column per fact the field table gives a report.html column."""
    if not builds:
        return ""
    columns = [f for f in FIELDS if f.html_column is not None]
    changes = fingerprint_changes(builds)
    rows = []
    for version, fp in builds.items():
        cols = [f.cell_text(fp, html=True) for f in columns]
        diff = "".join(f"<li>{esc(n)}</li>" for n in changes.get(version, []))
        change = f"<ul>{diff}</ul>" if diff else ("first build" if version not in changes else "no change")
        rows.append(f'<tr data-version="{esc(version)}"><th>{esc(version)}</th>'
                    + "".join(f"<td>{esc('–' if c is None else c)}</td>" for c in cols)
                    + f'<td class="changes">{change}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("build", *(str(f.html_column) for f in columns),
                                               "changes from the build above"))
    return (f'<h2>Build fingerprints</h2><table id="fingerprints"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _missed(results: RunResults, esc: Esc) -> str:
    bad = [r for r in results.cells if not r.met]
    if not bad:
        return ""
    items = "".join(f'<li><a href="#{esc(r.cell.id)}" data-open="{esc(r.cell.id)}">{esc(r.cell.id)}</a> — '
                    f'{esc(r.status)} (expected {esc(r.cell.expect)})</li>' for r in bad)
    return f'<h2>Cells that missed their expectation</h2><ul id="missed">{items}</ul>'


def render_html(results: RunResults, redactor: Redactor) -> str:
    cells = results.cells
    names: dict[str, int] = {}
    details = {r.cell.id: cell_evidence(r, names, size) for r, size in zip(cells, cell_budgets(cells), strict=True)}
    # every string masked before serialising (never the serialised text: a mask must not break JSON)
    data = redactor.value({"names": list(names), "cells": details, "colours": STATUS_COLOUR})
    esc = escaper(redactor)  # the body likewise: each value masked, then escaped
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    versions, columns = grid_axes([r.cell for r in cells])
    summary = ", ".join(f"{k} {v}" for k, v in results.summary().items() if v)
    verdict = ("every cell met its expectation" if results.ok else
               "interrupted: unfinished cells are errors" if results.interrupted else
               "some cells missed their expectation")
    filters = (_checks("build", versions, esc)
               + _checks("credential", list(dict.fromkeys(c for c, _, _, _ in columns)), esc)
               + _checks("policy", list(dict.fromkeys(p for _, p, _, _ in columns)), esc)
               + _checks("status", [s for s in STATUS_COLOUR if any(r.status == s for r in cells)], esc))
    legend = " ".join(f'<span class="s-{s}">{s}</span>' for s in STATUS_COLOUR)
    body = (
        f'<h1>codex-native matrix</h1><p id="verdict" class="{"ok" if results.ok else "bad"}">'
        f'{len(cells)} cells, started {esc(results.started.isoformat(timespec="seconds"))}, took '
        f'{results.duration_s:.0f} s: {esc(summary)} — {esc(verdict)}</p>'
        f'<div id="filters">{filters}</div><p class="legend">{legend} · n/m = tests passed / run · '
        f'click a cell for its evidence</p>{_grid(results, esc)}<section id="details" hidden></section>'
        f'{_missed(results, esc)}{_fingerprints(results.builds, esc)}'
    )
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>codex-native matrix report</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_static("report.css")}'
            f'</style></head><body>{body}<script id="cell-data" type="application/json">{payload}</script>'
            f'<script>{_static("report.js")}</script></body></html>\n')
    return page


def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8").replace("</", "<\\/")


def write_html(results: RunResults, out_dir: Path, redactor: Redactor) -> Path:
    path = out_dir / "report.html"
    path.write_text(render_html(results, redactor), encoding="utf-8")
    return path
