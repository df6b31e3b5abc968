"""Per-build fingerprints: what each codex build actually did, gathered from the cells' facts.

A regression is easiest to spot as a diff between two builds' fingerprints (a flag gone, a usage key
added, a credential source no longer honoured), so each build gets one row built only from observed
facts written by the contract suite (``facts.json`` per cell and scenario).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.suite.protocol import FACTS_FILE, Facts

if TYPE_CHECKING:
    from harness.results import CellResult


def read_cell_facts(artifacts: Path) -> dict[str, dict[str, Any]]:
    """scenario → that run's facts (as JSON-able dicts), for every scenario that wrote them; the one
    reading of a cell's ``facts.json`` files (the harvest takes its lane times from the same dicts)."""
    out: dict[str, dict[str, Any]] = {}
    if not artifacts.is_dir():
        return out
    for path in sorted(artifacts.glob(f"*/{FACTS_FILE}")):
        facts = Facts.read(path)
        if facts is not None:
            out[path.parent.name] = facts.to_json()
    return out


def _union(values: Sequence[Sequence[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for seq in values:
        for v in seq:
            seen.setdefault(v, None)
    return list(seen)


def cell_fingerprint(artifacts: Path) -> dict[str, Any]:
    """The cell's view of its build, read from its artifacts dir (see :func:`fingerprint_of`)."""
    return fingerprint_of(read_cell_facts(artifacts))


def fingerprint_of(facts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The cell's view of its build from its facts by scenario; the first three keys are the results.json schema's."""
    if not facts:
        return {"version_line": None, "protocol": None, "flags": []}
    any_facts = facts.get("ok") or next(iter(facts.values()))
    return {
        "version_line": any_facts.get("version_line"),
        "protocol": any_facts.get("protocol"),
        "flags": any_facts.get("flags", []),
        "event_types": _union([f.get("event_types", []) for f in facts.values()]),
        "item_types": _union([f.get("item_types", []) for f in facts.values()]),
        "usage_keys": (facts.get("ok") or {}).get("usage_keys", []),
        "tools_declared": _union([f.get("tools_declared", []) for f in facts.values()]),
        "stderr": _union([f.get("stderr", []) for f in facts.values()]),
        "session_files": {k: f.get("session_files", 0) for k, f in facts.items()},
        "credential_setup": any_facts.get("credential_setup"),
        "api_saw": (facts.get("ok") or {}).get("journal_credentials", []),
        "raw_api_saw": (facts.get("ok") or {}).get("raw_api_saw", []),
        "ok_turn_s": _completed_wall(facts.get("ok")),
        "model_catalog": any_facts.get("model_catalog", []),
        "calls": _union([f.get("calls", []) for f in facts.values()]),
        "command_completion": {name: command_completion(f) for name, f in facts.items() if command_completion(f)},
        "tool_turnaround_s": {name: f["tool_turnaround_s"] for name, f in facts.items()
                              if isinstance(f.get("tool_turnaround_s"), int | float)},
    }


def command_completion(facts: dict[str, Any]) -> str | None:
    """Whether codex printed the end of every command the fake asked for, in a turn that completed:
    ``printed`` or ``lost`` (None: no tool call, or the turn did not complete)."""
    calls = facts.get("tool_calls") or 0
    if not calls or facts.get("thread_status") != "completed":
        return None
    return "printed" if len(facts.get("commands") or []) >= calls else "lost"


def _completed_wall(ok: dict[str, Any] | None) -> float | None:
    """Wall time of the cell's `ok` run when it completed a turn (refused or failed runs say nothing)."""
    if not ok or ok.get("thread_status") != "completed" or not isinstance(ok.get("wall_s"), int | float):
        return None
    return float(ok["wall_s"])


def build_fingerprints(cells: Sequence[CellResult]) -> dict[str, dict[str, Any]]:
    """One fingerprint per build, merged over its cells."""
    builds: dict[str, dict[str, Any]] = {}
    ok_walls: dict[str, list[float]] = {}
    turnarounds: dict[tuple[str, str], list[float]] = {}
    for result in cells:
        fp = result.fingerprint
        if not fp or fp.get("version_line") is None:
            continue
        b = builds.setdefault(result.cell.version, {
            "version_line": fp["version_line"], "protocol": fp["protocol"], "flags": fp["flags"],
            "event_types": [], "item_types": [], "usage_keys": [], "tools_declared": [], "stderr": [],
            "session_files": {}, "credential_sources_honoured": [], "credential_sources_via_lane": [],
            "model_catalog": [], "calls_beyond_responses": {}, "command_completion": {}, "tool_turnaround_s": {},
        })
        for scenario, seen in (fp.get("command_completion") or {}).items():
            known = b["command_completion"].get(scenario)
            b["command_completion"][scenario] = seen if known in (None, seen) else "mixed"
        for scenario, seconds in (fp.get("tool_turnaround_s") or {}).items():
            turnarounds.setdefault((result.cell.version, scenario), []).append(seconds)
        if fp.get("calls"):  # e.g. a ChatGPT login refreshes the model catalog and asks ChatGPT's backend
            seen = b["calls_beyond_responses"].get(result.cell.credential, [])
            b["calls_beyond_responses"][result.cell.credential] = _union([seen, fp["calls"]])
        for key in ("event_types", "item_types", "tools_declared", "stderr", "model_catalog"):
            b[key] = _union([b[key], fp.get(key, [])])
        if fp.get("usage_keys") and not b["usage_keys"]:
            b["usage_keys"] = fp["usage_keys"]
        ok_files = fp.get("session_files", {}).get("ok")
        if ok_files is not None and result.cell.credential in ("codex-api-key", "auth-json"):
            b["session_files"][result.cell.policy] = ok_files
        # honoured = the build itself sent the key; via lane = it reached the API only through the lane
        if fp.get("raw_api_saw") == ["valid"]:
            b["credential_sources_honoured"] = _union([b["credential_sources_honoured"], [result.cell.credential]])
        if fp.get("api_saw") == ["valid"]:
            b["credential_sources_via_lane"] = _union([b["credential_sources_via_lane"], [result.cell.credential]])
        if fp.get("ok_turn_s") is not None:
            ok_walls.setdefault(result.cell.version, []).append(fp["ok_turn_s"])
    # A startup stall is a version-specific regression too (0.140.0 spends ~5 s before its first log
    # line, every run): the median over the build's cells shows it without one slow run skewing it.
    for version, b in builds.items():
        walls = ok_walls.get(version)
        b["ok_turn_s"] = round(statistics.median(walls), 2) if walls else None
    for (version, scenario), seconds in sorted(turnarounds.items()):
        builds[version]["tool_turnaround_s"][scenario] = round(statistics.median(seconds), 2)
    return builds
