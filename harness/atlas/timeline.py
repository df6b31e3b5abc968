"""atlas.jsonl → the timeline: for every observed fact, the release where it appeared and where it went away.

A *fact* is one thing a release was seen to do, as ``(category, value)``: an exec flag it offers, an
event type it printed, a usage key, a tool it declared, a credential source it honoured itself, how
many session files each policy left, a normalised stderr line, a model its catalog bundles, a file
shipped beside the binary, the stream protocol, each contract test's outcome, each cell's status.
Facts come only from what the record observed (the fingerprint the contract suite gathered and the
build's file list), never from a table of what a release should do.

Only releases that ran (status ``ok``) are *observed*. A release that could not be installed or run
says nothing about any fact, so it neither ends nor starts a span; each span names the observed
release before it (``appeared_after``), which shows the window when releases in between are missing
(0.43.0 was never published, so "appeared in 0.44.0 after 0.42.0").

Pure functions over records: the unit tests build timelines from synthetic lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.atlas.history import histories
from harness.atlas.pace import outliers
from harness.atlas.releases import notes_url
from harness.fingerprint import FIELDS
from harness.npmversion import version_key

SCHEMA = 1
TOOL_RACE = "tool-race"

#: (category id, what the timeline calls it), in the order reports list them: the build fingerprint's
#: timeline facts (its field table), then what the record itself shows.
CATEGORIES: tuple[tuple[str, str], ...] = (
    *(f.timeline for f in FIELDS if f.timeline is not None),
    ("file", "file shipped beside codex"),
    ("test", "contract test outcome"),
    ("cell", "cell status"),
)
LABELS = dict(CATEGORIES)
_ORDER = {c: i for i, (c, _) in enumerate(CATEGORIES)}
MET = frozenset({"pass", "xfail", "skip"})


def beside_binary(files: Iterable[str], binary_relpath: str | None) -> list[str]:
    """The build's files other than codex itself, as the timeline compares them across layouts.

    Files in the binary's own directory are named by file name (``codex-code-mode-host``); the rest by
    their first two path components (``codex-resources/zsh/``), so one bundled library more or less
    does not make a fact, but a new helper directory does.
    """
    binary_dir = binary_relpath.rpartition("/")[0] if binary_relpath else ""
    out: set[str] = set()
    for rel in files:
        if rel == binary_relpath:
            continue
        head, _, name = rel.rpartition("/")
        if head == binary_dir:
            out.add(name if not binary_dir else f"{binary_dir}/{name}")
            continue
        parts = rel.split("/")
        out.add("/".join(parts[:2]) + ("/" if len(parts) > 2 else ""))
    return sorted(out)


def record_facts(record: Mapping[str, Any]) -> set[tuple[str, str]] | None:
    """Every fact one release showed, or None when the release was not observed (did not run)."""
    if record.get("status") != "ok":
        return None
    fp: Mapping[str, Any] = record.get("fingerprint") or {}
    facts: set[tuple[str, str]] = set()

    def add(category: str, values: Iterable[Any]) -> None:
        for value in values:
            if value is not None and str(value).strip():
                facts.add((category, str(value)))

    for field in FIELDS:
        if field.timeline is not None:
            add(field.timeline[0], field.values(fp))
    add("file", beside_binary(record.get("tree_files", []), record.get("binary_relpath")))
    # A cell whose suite was cut short says nothing about the build: its tests and status are left out.
    cells: Mapping[str, Any] = record.get("cells") or {}
    finished = {key for key, cell in cells.items() if not cell.get("unfinished")}
    by_test: dict[str, set[str]] = {}
    for key, outcomes in (record.get("tests") or {}).items():
        if key not in finished:
            continue
        for name, outcome in outcomes.items():
            by_test.setdefault(name, set()).add(outcome)
    add("test", [f"{name}: {outcome}" for name, outs in by_test.items() for outcome in outs])
    add("cell", [f"{key}: {cells[key].get('status')}" for key in finished])
    return facts


@dataclass
class Span:
    appeared: str
    appeared_after: str | None  # the observed release before it (None: present from the first one observed)
    last_seen: str
    went_away: str | None = None  # the first observed release without it (None: still there at the end)

    def to_json(self) -> dict[str, Any]:
        return {
            "appeared": self.appeared, "appeared_after": self.appeared_after,
            "appeared_notes": None if self.appeared_after is None else notes_url(self.appeared),
            "last_seen": self.last_seen, "went_away": self.went_away,
            "went_away_notes": notes_url(self.went_away) if self.went_away else None,
        }


def spans_of(present: Sequence[bool], versions: Sequence[str]) -> list[Span]:
    """Maximal runs of presence over the observed releases, in order."""
    spans: list[Span] = []
    for i, here in enumerate(present):
        was = i > 0 and present[i - 1]
        if here and not was:
            spans.append(Span(appeared=versions[i], appeared_after=versions[i - 1] if i else None,
                              last_seen=versions[i]))
        elif here:
            spans[-1].last_seen = versions[i]
        elif was:
            spans[-1].went_away = versions[i]
    return spans


def _sorted(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(records, key=lambda r: version_key(str(r["version"])))


def tool_race_verdict(tests: Mapping[str, str]) -> str | None:
    """One cell's tool-race verdict from its tests' outcomes (None: the scenario did not run there)."""
    outcomes = {o for name, o in tests.items() if name.endswith(f"[{TOOL_RACE}]")}
    for verdict in ("fail", "error", "xpass", "xfail", "pass", "skip"):
        if verdict in outcomes:
            return verdict
    return None


def race_only_failures(tests: Mapping[str, str]) -> list[str]:
    """Tests that failed under ``tool-race`` but passed under ``tool`` in the same cell: the race itself,
    not a build that fails every tool turn (0.8.0 never exits, for one)."""
    out = []
    for name, outcome in tests.items():
        base, _, scenario = name.partition("[")
        if scenario == f"{TOOL_RACE}]" and outcome in ("fail", "error") and tests.get(f"{base}[tool]") == "pass":
            out.append(base)
    return sorted(out)


def tool_race_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One release's tool-race outcomes: verdict counts over its cells, and the cells where only the race
    failed (``failing_cells``) with the tests that did."""
    counts: dict[str, int] = {}
    failing: dict[str, list[str]] = {}
    cells: Mapping[str, Any] = record.get("cells") or {}
    for key, tests in (record.get("tests") or {}).items():
        if (cells.get(key) or {}).get("unfinished"):
            continue
        verdict = tool_race_verdict(tests)
        if verdict is None:
            continue
        counts[verdict] = counts.get(verdict, 0) + 1
        race = race_only_failures(tests)
        if race:
            failing[key] = race
    return {"version": record["version"], "counts": counts, "failing_cells": sorted(failing),
            "race_tests": {k: failing[k] for k in sorted(failing)}, "ran": sum(counts.values())}


def cost_of(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    phases = ("resolve_s", "download_s", "unpack_s", "image_s", "runs_s", "cleanup_s", "total_s")
    totals = {p: round(sum(float(r.get("timings", {}).get(p, 0.0)) for r in records), 1) for p in phases}
    ran = [r for r in records if r.get("status") == "ok"]
    return {
        "releases": len(records), "totals_s": totals,
        "mean_total_s": round(totals["total_s"] / len(records), 1) if records else 0.0,
        "mean_ok_total_s": round(sum(float(r["timings"]["total_s"]) for r in ran) / len(ran), 1) if ran else 0.0,
        "max_tree_bytes": max((int(r["sizes"]["tree_bytes"] or 0) for r in records if r.get("sizes")), default=0),
        "max_image_bytes": max((int(r["sizes"]["image_bytes"] or 0) for r in records if r.get("sizes")), default=0),
    }


def build_timeline(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole timeline as one JSON-able document (``atlas.json``)."""
    ordered = _sorted(records)
    observed: list[tuple[str, set[tuple[str, str]]]] = []
    for record in ordered:
        facts = record_facts(record)
        if facts is not None:
            observed.append((str(record["version"]), facts))
    versions = [v for v, _ in observed]
    every = sorted({f for _, facts in observed for f in facts}, key=lambda f: (_ORDER.get(f[0], 99), f[1]))
    fact_rows: list[dict[str, Any]] = []
    changes: dict[str, dict[str, list[dict[str, str]]]] = {v: {"appeared": [], "went_away": []} for v in versions}
    for category, value in every:
        present = [(category, value) in facts for _, facts in observed]
        spans = spans_of(present, versions)
        constant = len(spans) == 1 and spans[0].appeared_after is None and spans[0].went_away is None
        fact_rows.append({"category": category, "label": LABELS.get(category, category), "value": value,
                          "constant": constant, "releases": sum(present),
                          "spans": [s.to_json() for s in spans]})
        for span in spans:
            if span.appeared_after is not None:
                changes[span.appeared]["appeared"].append({"category": category, "value": value})
            if span.went_away is not None:
                changes[span.went_away]["went_away"].append({"category": category, "value": value})
    releases = []
    for record in ordered:
        cells = (record.get("cells") or {}).values()
        releases.append({
            "version": record["version"], "npm_version": record.get("npm_version"), "status": record.get("status"),
            "error": record.get("error"), "notes": notes_url(str(record["version"])),
            "timings": record.get("timings", {}), "sizes": record.get("sizes", {}), "reused": record.get("reused", {}),
            "cells_met": sum(1 for c in cells if c.get("status") in MET), "cells": len(record.get("cells") or {}),
        })
    return {
        "schema": SCHEMA,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "categories": [{"id": c, "label": label} for c, label in CATEGORIES],
        "releases": releases,
        "observed": versions,
        "facts": fact_rows,
        "changes": [{"version": v, "notes": notes_url(v), "after": versions[i - 1] if i else None, **changes[v]}
                    for i, v in enumerate(versions) if changes[v]["appeared"] or changes[v]["went_away"]],
        "tool_race": [tool_race_row(r) for r in ordered if r.get("status") == "ok"],
        "tests": histories(ordered, versions),
        "cost": cost_of(ordered),
        "pace": outliers(ordered),
    }


def find_fact(timeline: Mapping[str, Any], category: str, value: str) -> dict[str, Any] | None:
    """The timeline row of one fact (for reports, the closing table of known transitions, and tests)."""
    return next((f for f in timeline["facts"] if f["category"] == category and f["value"] == value), None)
