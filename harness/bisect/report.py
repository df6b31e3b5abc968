"""How a bisect ends: the first new release, the last old one, the steps, and where to read about them.

The shape follows cargo-bisect-rustc's regression report and mozregression's closing lines: both
bounds, the links to their release notes, the compare view between their ``rust-v`` tags, and every
step with its verdict, so the note can go straight into an issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.bisect.judge import StepOutcome
from harness.bisect.search import Search, step_bound
from harness.bisect.terms import Terms
from harness.releases import compare_url, release_notes_url


def summarize(search: Search, steps: Sequence[StepOutcome], terms: Terms, params: dict[str, Any]) -> dict[str, Any]:
    first_new, last_old = search.first_new(), search.last_old()
    skipped = search.skipped_between()
    judged = [s for s in steps if s.container_runs or s.resumed]
    return {
        "finds": terms.finds,
        "terms": {"old": terms.old, "new": terms.new},
        "params": params,
        "releases": len(search.versions),
        "range": [search.versions[0], search.versions[-1]],
        "first_new": first_new,
        "last_old": last_old,
        "candidates": [*skipped, first_new],  # more than one when skipped releases sit in the final window
        "steps": [s.to_json() for s in steps],
        "step_count": len(judged),
        "container_runs": sum(s.container_runs for s in steps if not s.resumed),
        "resumed_steps": sum(1 for s in steps if s.resumed),
        "bound": step_bound(len(search.versions)),
        "links": {
            "first_new": release_notes_url(first_new),
            "last_old": release_notes_url(last_old),
            "compare": compare_url(last_old, first_new),
        },
    }


def render(summary: dict[str, Any]) -> str:
    old, new = summary["terms"]["old"], summary["terms"]["new"]
    lo, hi = summary["range"]
    lines = [f"bisect over {summary['releases']} releases {lo}..{hi} ({old} → {new}):"]
    width = max(len(f"first {new}:"), len(f"last {old}:"), len("compare:"))
    first = f"first {new}:".ljust(width)
    if len(summary["candidates"]) > 1:
        lines.append(f"  {first} one of {', '.join(summary['candidates'])} (the skipped releases could not be "
                     "judged)")
        lines.append(f"  {' ' * width} {summary['links']['first_new']}")
    else:
        lines.append(f"  {first} {summary['first_new']}  {summary['links']['first_new']}")
    lines += [
        f"  {f'last {old}:'.ljust(width)} {summary['last_old']}  {summary['links']['last_old']}",
        f"  {'compare:'.ljust(width)} {summary['links']['compare']}",
    ]
    shown = ", ".join(f"{s['version']} {_word(s, old, new)}" for s in summary["steps"])
    resumed = f", {summary['resumed_steps']} read back from bisect.jsonl" if summary["resumed_steps"] else ""
    lines.append(f"  steps: {summary['step_count']} ({shown}); {summary['container_runs']} container runs now"
                 f"{resumed}; at most {summary['bound']} without skips (ceil(log2 {summary['releases']}) + 2)")
    return "\n".join(lines)


def _word(step: dict[str, Any], old: str, new: str) -> str:
    word = {"old": old, "new": new}.get(step["verdict"], "skipped")
    counts = step.get("counts") or {}
    runs = sum(counts.values())
    if runs > 1:
        word += f" [{counts.get('missed', 0)}/{runs} missed]"
    return word
