"""Transitions the project already knows about, looked up in a timeline: the atlas's self-check.

Each entry names the fact that shows the transition and what was known before the atlas (from
``/work/shared`` measurements and codex's changelog). The report prints what the atlas *found* beside
it; a mismatch is news either about codex or about the atlas, and both are worth a look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.atlas.timeline import TOOL_RACE, find_fact


@dataclass(frozen=True)
class Known:
    what: str
    category: str
    value: str
    direction: str  # "appeared" | "went_away" | "range" (tool-race: first..last release with a failing cell)
    known: str  # what was known before the atlas


KNOWN: tuple[Known, ...] = (
    Known("legacy {id,msg} stream → thread events", "protocol", "thread-events", "appeared",
          "0.44.0 (0.43 unpublished)"),
    Known("legacy stream gone", "protocol", "legacy", "went_away", "0.44.0"),
    Known("`--ephemeral`", "flag", "--ephemeral", "appeared", "0.99.0"),
    Known("`reasoning_output_tokens` in usage", "usage", "reasoning_output_tokens", "appeared", "0.121–0.125"),
    Known("`cache_write_input_tokens` in usage", "usage", "cache_write_input_tokens", "appeared", "0.141–0.145"),
    Known("OPENAI_API_KEY ignored by codex's own auth", "credential", "openai-api-key", "went_away", "0.36.0"),
    Known("CODEX_API_KEY honoured", "credential", "codex-api-key", "appeared", "0.44.0"),
    Known("stdin read by exec", "stderr", "Reading additional input from stdin...", "appeared", "0.118.0"),
    Known("`shell` tool gone", "tool", "shell", "went_away", "0.99.0"),
    Known("`exec_command` tool", "tool", "exec_command", "appeared", "0.99.0"),
    Known("helper `codex-code-mode-host` beside codex", "file", "bin/codex-code-mode-host", "appeared", "0.145.0"),
    Known("`codex-resources/` beside codex", "file", "codex-resources/bwrap", "appeared", "later than 0.130"),
    Known("`tool-race`: a command's item.completed lost", "test", TOOL_RACE, "range", "0.117.0–0.145.0 (bisect)"),
)


def found(timeline: Mapping[str, Any], entry: Known) -> str:
    """What the timeline says for ``entry``: a release, a window, or why it cannot say."""
    observed = timeline.get("observed") or []
    if not observed:
        return "no release observed"
    if entry.direction == "range":
        failing = [row["version"] for row in timeline.get("tool_race", []) if row["failing_cells"]]
        if not failing:
            return f"no race cell in {observed[0]}–{observed[-1]}"
        many = "s" if len(failing) != 1 else ""
        return f"{failing[0]}–{failing[-1]} ({len(failing)} release{many} with a race cell: {', '.join(failing)})"
    fact = find_fact(timeline, entry.category, entry.value)
    if fact is None:
        return f"never seen in {observed[0]}–{observed[-1]}"
    spans = fact["spans"]
    if entry.direction == "appeared":
        hits = [s for s in spans if s["appeared_after"] is not None]
        if not hits:
            return f"already there in {spans[0]['appeared']} (first observed)"
        return ", ".join(f"{s['appeared']} (after {s['appeared_after']})" for s in hits)
    gone = [s for s in spans if s["went_away"] is not None]
    if not gone:
        return f"still there in {spans[-1]['last_seen']}"
    return ", ".join(f"{s['went_away']} (last seen {s['last_seen']})" for s in gone)


def known_rows(timeline: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"what": k.what, "fact": f"{k.category}: {k.value}", "known": k.known, "found": found(timeline, k)}
            for k in KNOWN]
