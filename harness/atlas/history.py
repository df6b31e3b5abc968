"""Each contract test's history over the releases: where it started to hold, and where to fail.

The timeline's facts say which outcome a test had where (``test_x[ok]: pass``), one row per outcome;
a reader asking "since when does codex pass this test, and where did it break" wants one row per
test. Per observed release a test is:

* **fails** when it failed in any cell whose suite finished (``fail``, ``error``, or ``xfail``: a known
  regression is still the build failing the test; the rules table says whether the rule's range is
  right);
* **holds** when it passed in at least one such cell and failed in none (``xpass`` counts as holding:
  codex did what the test asks, whatever a strict rule claimed);
* not counted where it only skipped or did not run (a cell set without that scenario, a build the test
  does not apply to): that release neither ends nor starts a span, as in the timeline.

Pure functions over records, like :mod:`harness.atlas.timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

FAILED = frozenset({"fail", "error", "xfail"})
HELD = frozenset({"pass", "xpass"})


def verdicts(record: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """test name → (``holds`` | ``fails``, how many cells failed it) in one release."""
    cells: Mapping[str, Any] = record.get("cells") or {}
    failed: dict[str, int] = {}
    held: set[str] = set()
    for key, outcomes in (record.get("tests") or {}).items():
        if (cells.get(key) or {}).get("unfinished"):
            continue
        for name, outcome in (outcomes or {}).items():
            if outcome in FAILED:
                failed[name] = failed.get(name, 0) + 1
            elif outcome in HELD:
                held.add(name)
    out = {name: ("fails", n) for name, n in failed.items()}
    out.update({name: ("holds", 0) for name in held if name not in failed})
    return out


def histories(records: Sequence[Mapping[str, Any]], observed: Sequence[str]) -> list[dict[str, Any]]:
    """One row per contract test, over the ``observed`` releases (in order): its spans of holding and
    failing, each with the release it started in and the observed release before that."""
    by_version = {str(r.get("version")): r for r in records}
    per_release = [(v, verdicts(by_version[v])) for v in observed if v in by_version]
    names = sorted({name for _, seen in per_release for name in seen})
    rows = []
    for name in names:
        spans: list[dict[str, Any]] = []
        previous: str | None = None
        for version, seen in per_release:
            if name not in seen:
                continue
            verdict, cells = seen[name]
            if spans and spans[-1]["verdict"] == verdict:
                spans[-1]["last"] = version
                spans[-1]["most_cells"] = max(spans[-1]["most_cells"], cells)
            else:
                spans.append({"verdict": verdict, "from": version, "after": previous, "last": version,
                              "most_cells": cells})
            previous = version
        rows.append({"test": name, "first": spans[0]["from"], "last": spans[-1]["last"],
                     "always_held": all(s["verdict"] == "holds" for s in spans),
                     "holds_now": spans[-1]["verdict"] == "holds", "spans": spans})
    return rows


def span_text(span: Mapping[str, Any]) -> str:
    """``fails 0.117.0–0.145.0 (from 0.117.0, after 0.116.0; up to 3 cells)``, for the pages."""
    reach = span["from"] if span["from"] == span["last"] else f"{span['from']}–{span['last']}"
    start = f"from {span['from']}" + (f", after {span['after']}" if span["after"] else ", the first observed")
    cells = f"; up to {span['most_cells']} cell{'s' if span['most_cells'] != 1 else ''}" \
        if span["verdict"] == "fails" else ""
    return f"{span['verdict']} {reach} ({start}{cells})"


def held_since(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Tests that held on every release they ran on, grouped by the release they started to hold in."""
    out: dict[str, list[str]] = {}
    for row in rows:
        if row["always_held"]:
            out.setdefault(row["first"], []).append(row["test"])
    return out
