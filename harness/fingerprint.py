"""Per-build fingerprints: what each codex build actually did, gathered from the cells' facts.

A regression is easiest to spot as a diff between two builds' fingerprints (a flag gone, a usage key
added, a credential source no longer honoured), so each build gets one row built only from observed
facts written by the contract suite (``facts.json`` per cell and scenario).

**One field table** (:data:`FIELDS`) says, per fact of a build's fingerprint, its key, its value type,
what it is called, whether two builds are compared on it, its atlas timeline category and its report
columns. The fingerprint's own assembly, ``codex-matrix diff``, the atlas timeline, report.md,
report.html and the reader of results.json (:mod:`harness.incoming.results`) all iterate it, so no
fact's key or label is spelled anywhere else. A fact that is a list the suite observes per (cell,
scenario) (``union_of``: a :class:`~harness.suite.facts.Facts` field, unioned over a cell's
scenarios and a build's cells) costs two files: its ``Facts`` field and its entry here.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.suite.facts import Facts
from harness.suite.protocol import FACTS_FILE

if TYPE_CHECKING:
    from harness.results import CellResult

#: A fact's value type: ``name`` one short string (or None); ``names``/``texts`` a list of short names /
#: free text lines; ``counts`` name -> count; ``labels`` name -> name; ``seconds`` seconds (or None);
#: ``seconds_by`` name -> seconds; ``names_by`` name -> list of names.
Kind = Literal["name", "names", "texts", "counts", "labels", "seconds", "seconds_by", "names_by"]
LIST_KINDS: frozenset[str] = frozenset({"names", "texts"})
_EMPTY: dict[str, Callable[[], Any]] = {
    "name": lambda: None, "seconds": lambda: None, "names": list, "texts": list,
    "counts": dict, "labels": dict, "seconds_by": dict, "names_by": dict,
}
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Field:
    """One fact of a build's fingerprint, and every place it shows.

    ``union_of``: the :class:`~harness.suite.facts.Facts` list it is the union of (over a cell's
    scenarios, then over a build's cells); the cell fingerprint carries it under the same key. None: a
    rule in :func:`fingerprint_of` / :func:`build_fingerprints` computes it. ``compared``: ``diff`` and
    report.html's "changes from the build above" show it when it changed. ``timeline``: its atlas
    category (id, label); ``timeline_values``: the facts it makes there (default: its values, or its one
    value). ``column`` / ``html_column``: its report.md / report.html column header; ``show`` /
    ``show_html``: what that column shows (default: the values joined, "–" for none).
    """

    key: str
    label: str
    kind: Kind
    union_of: str | None = None
    compared: bool = True
    timeline: tuple[str, str] | None = None
    timeline_values: Callable[[Row], Iterable[Any]] | None = None
    column: str | None = None
    show: Callable[[Row], object] | None = None
    html_column: str | None = None
    show_html: Callable[[Row], object] | None = None

    @property
    def is_list(self) -> bool:
        return self.kind in LIST_KINDS

    def empty(self) -> Any:
        return _EMPTY[self.kind]()

    def values(self, fp: Row) -> list[Any]:
        """The values the atlas timeline records for one build."""
        if self.timeline_values is not None:
            return list(self.timeline_values(fp))
        value = fp.get(self.key)
        return list(value or []) if self.is_list else [value]

    def cell_text(self, fp: Row, *, html: bool = False) -> object:
        """What this fact's report column shows for one build (before masking and escaping)."""
        render = (self.show_html or self.show) if html else self.show
        if render is not None:
            return render(fp)
        value = fp.get(self.key)
        if self.is_list:
            return ", ".join(str(v) for v in value or [])
        return "–" if value is None else value


#: Flags that tell builds apart at a glance (report.md's flags column).
_TELLING_FLAGS = ("--ephemeral", "--json", "--experimental-json", "--full-auto", "--output-schema",
                  "--ignore-user-config", "--strict-config")
#: A normalised stderr line is cut to this many characters as an atlas fact.
STDERR_CHARS = 200


def _flags(fp: Row) -> list[str]:
    return [f for f in fp.get("flags", []) if f not in ("--help", "--version")]


def _session_facts(fp: Row) -> list[str]:
    files = sorted((fp.get("session_files") or {}).items())
    return [f"{policy}: {n} file{'s' if n != 1 else ''}" for policy, n in files]


def _session_column(fp: Row) -> str:
    files = fp.get("session_files") or {}
    return f"{files.get('ephemeral', '–')}/{files.get('persistent', '–')}"


def _completions(fp: Row) -> str:
    """Per tool scenario: did codex print every command's end, and the command's turnaround."""
    seconds = fp.get("tool_turnaround_s") or {}
    return "; ".join(f"{scenario} {seen}" + (f" ({seconds[scenario]})" if scenario in seconds else "")
                     for scenario, seen in (fp.get("command_completion") or {}).items()) or "–"


def _calls(fp: Row) -> str:
    """Requests beside POST /responses, per credential setup (e.g. a ChatGPT login's catalog refresh)."""
    by_credential = fp.get("calls_beyond_responses") or {}
    return "; ".join(f"{cred}: {', '.join(calls)}" for cred, calls in by_credential.items()) or "–"


#: Every fact of a build's fingerprint, in the order the reports and the atlas timeline list them.
FIELDS: tuple[Field, ...] = (
    Field("version_line", "version line", "name"),
    Field("protocol", "stream protocol", "name", timeline=("protocol", "stream protocol"),
          column="protocol", html_column="protocol"),
    Field("flags", "exec flags", "names", timeline=("flag", "exec flag"), column="exec flags",
          show=lambda fp: f"{len(_flags(fp))} ({' '.join(f for f in _flags(fp) if f in _TELLING_FLAGS)})",
          html_column="flags", show_html=lambda fp: len(_flags(fp))),
    Field("event_types", "event types", "names", union_of="event_types", timeline=("event", "event type"),
          column="events", html_column="event types"),
    Field("item_types", "item types", "names", union_of="item_types", timeline=("item", "item type"),
          column="items"),
    Field("usage_keys", "usage keys", "names", timeline=("usage", "usage key"), column="usage keys",
          html_column="usage keys"),
    Field("tools_declared", "tools declared", "names", union_of="tools_declared",
          timeline=("tool", "tool declared"),
          column="tools declared", show=lambda fp: ", ".join(fp.get("tools_declared", [])[:6]),
          html_column="tools declared", show_html=lambda fp: ", ".join(fp.get("tools_declared", [])[:8])),
    Field("credential_sources_honoured", "credential sources the build honours", "names",
          timeline=("credential", "credential source honoured by the build"),
          column="credentials the build honours", html_column="key honoured from"),
    Field("session_files", "session files per policy (ok scenario)", "counts",
          timeline=("session", "session files per policy"), timeline_values=_session_facts,
          column="session files (eph/pers)", show=_session_column),
    Field("credential_sources_via_lane", "credential sources that reach the API via the lane", "names",
          column="via the lane"),
    Field("ok_turn_s", "ok turn s (median)", "seconds", compared=False, column="ok turn s (median)",
          html_column="ok turn s", show_html=lambda fp: fp.get("ok_turn_s")),
    Field("stderr", "stderr lines (normalised)", "texts", union_of="stderr",
          timeline=("stderr", "stderr line (normalised)"),
          timeline_values=lambda fp: [line[:STDERR_CHARS] for line in fp.get("stderr", [])],
          column="stderr (normalised)", show=lambda fp: "; ".join(str(s)[:80] for s in fp.get("stderr", [])[:4])),
    Field("calls_beyond_responses", "calls beyond /responses per credential setup", "names_by", compared=False,
          column="calls beyond /responses", show=_calls),
    Field("model_catalog", "model catalog", "names", timeline=("model", "model in the bundled catalog"),
          column="model catalog", show=lambda fp: f"{len(fp.get('model_catalog', []))} slugs"),
    Field("command_completion", "command completions printed (tool: answer held; tool-race: 0.3 s command "
          "answered at once)", "labels", column="command completions (turnaround s)", show=_completions),
    Field("tool_turnaround_s", "tool turnaround s (median) per scenario", "seconds_by", compared=False),
)
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
#: The facts unioned from the suite's per-run lists, at the cell and at the build alike.
UNIONS: tuple[Field, ...] = tuple(f for f in FIELDS if f.union_of is not None)
#: The facts two builds are compared on (``diff``, report.html).
COMPARED: tuple[Field, ...] = tuple(f for f in FIELDS if f.compared)


def changed(old: Row, new: Row) -> list[tuple[Field, Any, Any]]:
    """The compared facts whose value differs between two builds (the version line aside: it always does)."""
    return [(f, old.get(f.key), new.get(f.key)) for f in COMPARED
            if f.key != "version_line" and old.get(f.key) != new.get(f.key)]


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
    ok = facts.get("ok") or {}
    fp: dict[str, Any] = {
        "version_line": any_facts.get("version_line"),
        "protocol": any_facts.get("protocol"),
        "flags": any_facts.get("flags", []),
        "usage_keys": ok.get("usage_keys", []),
        "session_files": {k: f.get("session_files", 0) for k, f in facts.items()},
        "credential_setup": any_facts.get("credential_setup"),
        "api_saw": ok.get("journal_credentials", []),
        "raw_api_saw": ok.get("raw_api_saw", []),
        "ok_turn_s": _completed_wall(facts.get("ok")),
        "model_catalog": any_facts.get("model_catalog", []),
        "calls": _union([f.get("calls", []) for f in facts.values()]),
        "command_completion": {name: command_completion(f) for name, f in facts.items() if command_completion(f)},
        "tool_turnaround_s": {name: f["tool_turnaround_s"] for name, f in facts.items()
                              if isinstance(f.get("tool_turnaround_s"), int | float)},
    }
    for field in UNIONS:
        fp[field.key] = _union([f.get(field.union_of or field.key, []) for f in facts.values()])
    return fp


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
        b = builds.get(result.cell.version)
        if b is None:
            b = builds[result.cell.version] = {f.key: f.empty() for f in FIELDS}
            b.update(version_line=fp["version_line"], protocol=fp["protocol"], flags=fp["flags"])
        for scenario, seen in (fp.get("command_completion") or {}).items():
            known = b["command_completion"].get(scenario)
            b["command_completion"][scenario] = seen if known in (None, seen) else "mixed"
        for scenario, seconds in (fp.get("tool_turnaround_s") or {}).items():
            turnarounds.setdefault((result.cell.version, scenario), []).append(seconds)
        if fp.get("calls"):  # e.g. a ChatGPT login refreshes the model catalog and asks ChatGPT's backend
            seen = b["calls_beyond_responses"].get(result.cell.credential, [])
            b["calls_beyond_responses"][result.cell.credential] = _union([seen, fp["calls"]])
        for key in (*(f.key for f in UNIONS), "model_catalog"):
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
