"""``atlas.md``: the timeline for reading in a terminal, a pull request or a wiki.

Sections: the releases covered, the known transitions as found, every fact that changed (where it
appeared and went away, each release linked to its notes), the same as a release-by-release changelog,
the tool-race outcomes, each known regression's claimed range beside the observed one (a rule that
disagrees is also flagged at the top), each contract test's history (where it started to hold or to
fail), releases far slower than their neighbours and why (one with no measured cause is also flagged at
the top), releases that could not be installed or run, and what each release cost.

Every value from the records (versions, facts, labels, statuses, error messages) is masked and then
escaped for its place by :mod:`harness.mdtext`: a record is data, and data must not write Markdown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.atlas.history import held_since, span_text
from harness.atlas.known import known_rows
from harness.atlas.pace import RATIO, WINDOW, brief, unexplained, whose
from harness.atlas.releases import notes_url
from harness.mdtext import Markdown


def _s(value: Any) -> str:
    return f"{float(value or 0):.1f}"


def _mb(value: Any) -> str:
    return f"{int(value) / 1e6:.0f}" if value else "—"


def render_markdown(timeline: Mapping[str, Any], mask: Callable[[str], str] | None = None) -> str:
    """The atlas; ``mask`` (the redactor) is applied to each value before it is escaped."""
    md = Markdown(mask)

    def _link(version: str | None) -> str:
        return md.link(version, notes_url(version)) if version else "—"

    def _cell(value: Any) -> str:
        return md.cell(value)

    def _code(value: Any) -> str:
        return md.code(value, in_table=True)

    releases = timeline["releases"]
    observed = timeline["observed"]
    by_status: dict[str, int] = {}
    for r in releases:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    span = f"{_cell(releases[0]['version'])} … {_cell(releases[-1]['version'])}" if releases else "no releases"
    lines = [
        "# codex release atlas",
        "",
        f"{len(releases)} stable releases ({span}): "
        + ", ".join(f"{n} {_cell(s)}" for s, n in sorted(by_status.items()))
        + f". {len(observed)} observed. Generated {_cell(timeline['generated'])}.",
        "",
        "A fact's *appeared* release is the first observed release that shows it (after the observed "
        "release named in brackets); *went away* is the first observed release without it. Releases that "
        "could not be installed or run say nothing either way.",
        "",
        *_disagreeing(timeline, md),
        *_unexplained(timeline, md),
        "## Known transitions, as found",
        "",
        "| transition | fact | known | found by the atlas |",
        "|---|---|---|---|",
    ]
    lines += [f"| {md.ticked(r['what'], in_table=True)} | {_code(r['fact'])} | {_cell(r['known'])} "
              f"| {_cell(r['found'])} |" for r in known_rows(timeline)]
    changing = [f for f in timeline["facts"] if not f["constant"]]
    lines += ["", f"## Facts that changed ({len(changing)})", "",
              "| kind | fact | appeared | went away |", "|---|---|---|---|"]
    for fact in changing:
        for span_ in fact["spans"]:
            appeared = (f"{_link(span_['appeared'])} (after {_cell(span_['appeared_after'])})"
                        if span_["appeared_after"] else f"≤ {_cell(span_['appeared'])}")
            gone = (f"{_link(span_['went_away'])} (last {_cell(span_['last_seen'])})" if span_["went_away"] else "—")
            lines.append(f"| {_cell(fact['label'])} | {_code(fact['value'])} | {appeared} | {gone} |")
    lines += ["", "## Release by release", ""]
    for change in timeline["changes"]:
        lines.append(f"### {_link(change['version'])} (after {_cell(change['after'])})")
        lines += [f"- \\+ {_cell(item['category'])}: {md.code(item['value'])}" for item in change["appeared"]]
        lines += [f"- − {_cell(item['category'])}: {md.code(item['value'])}" for item in change["went_away"]]
        lines.append("")
    constant = [f for f in timeline["facts"] if f["constant"]]
    counts: dict[str, int] = {}
    for fact in constant:
        counts[fact["label"]] = counts.get(fact["label"], 0) + 1
    lines += [f"## Facts present in every observed release ({len(constant)})", "",
              ", ".join(f"{_cell(label)}: {n}" for label, n in counts.items()) or "none", "",
              "(listed in atlas.json)", ""]
    lines += ["## tool-race", "", "A 0.3 s command, its follow-up answered at once. *Race* cells: a "
              "`tool-race` test failed that passed under `tool` in the same cell.", "",
              "| release | verdicts per cell | race cells (tests) |", "|---|---|---|"]
    for row in timeline["tool_race"]:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(row["counts"].items())) or "did not run"
        race = "; ".join(f"{k} ({', '.join(t)})" for k, t in row.get("race_tests", {}).items()) or "—"
        lines.append(f"| {_link(row['version'])} | {_cell(verdicts)} | {_cell(race)} |")
    rules = timeline.get("rules") or []
    if rules:
        lines += ["", "## Known regressions: claimed vs observed", "",
                  "Each xfail rule of matrix.yaml: the releases it selects (claimed) and those where its tests "
                  "failed as it describes (observed). A strict rule must match exactly; a measured rate only stays "
                  "inside its range.", "",
                  "| rule | versions | tests | claimed | observed | fixed in | agrees |",
                  "|---|---|---|---|---|---|---|"]
        for row in rules:
            lines.append(f"| {row['rule']} | {_code(row['versions'])} | {_cell(', '.join(row['tests']))} "
                         f"| {_cell(row['claimed'])} | {_cell(row['observed'])} "
                         f"| {_cell(', '.join(row['fixed_in']) or '—')} | {'yes' if row['agrees'] else '**NO**'} |")
    lines += _tests(timeline, md)
    lines += _pace(timeline, md)
    unobserved = [r for r in releases if r["status"] != "ok"]
    lines += ["", f"## Not observed ({len(unobserved)})", ""]
    lines += [f"- {_link(r['version'])}: **{_cell(r['status'])}** at {_cell((r['error'] or {}).get('phase'))}: "
              f"{_cell((r['error'] or {}).get('message', ''))}" for r in unobserved] or ["none"]
    cost = timeline["cost"]
    lines += ["", "## Cost per release", "",
              f"{cost['releases']} releases in {_s(cost['totals_s']['total_s'])} s of phase time "
              f"(mean {cost['mean_total_s']} s; {cost['mean_ok_total_s']} s for releases that ran). Phases of "
              "consecutive releases overlap (the next one is prepared while one runs), so the wall time of the "
              "atlas is below this sum.", "",
              "| release | status | download s | unpack s | image s | runs s | cleanup s | total s | tarball MB "
              "| tree MB | image MB | reused | cells met |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in releases:
        t, z = r["timings"], r["sizes"]
        reused = _cell(", ".join(k for k, v in (r.get("reused") or {}).items() if v) or "—")
        lines.append(
            f"| {_link(r['version'])} | {_cell(r['status'])} | {_s(t.get('download_s'))} | {_s(t.get('unpack_s'))} | "
            f"{_s(t.get('image_s'))} | {_s(t.get('runs_s'))} | {_s(t.get('cleanup_s'))} | {_s(t.get('total_s'))} | "
            f"{_mb(z.get('tarball_bytes'))} | {_mb(z.get('tree_bytes'))} | {_mb(z.get('image_bytes'))} | {reused} | "
            f"{_cell(r['cells_met'])}/{_cell(r['cells'])} |")
    tot = cost["totals_s"]
    lines.append(f"| **sum** | | {_s(tot['download_s'])} | {_s(tot['unpack_s'])} | {_s(tot['image_s'])} | "
                 f"{_s(tot['runs_s'])} | {_s(tot['cleanup_s'])} | {_s(tot['total_s'])} | | | | | |")
    return "\n".join(lines) + "\n"


def _disagreeing(timeline: Mapping[str, Any], md: Markdown) -> list[str]:
    """The flag at the top of the page: known-regression rules the atlas contradicts (atlas exits 1)."""
    wrong = [row for row in timeline.get("rules") or [] if not row["agrees"]]
    if not wrong:
        return []
    names = ", ".join(f"rule {row['rule']} ({row['versions']}: claims {row['claimed']}, observed {row['observed']})"
                      for row in wrong)
    return [f"**{len(wrong)} known-regression rule{'s' if len(wrong) != 1 else ''} disagree with the atlas:** "
            f"{md.text(names)}. See *Known regressions: claimed vs observed*.", ""]


def _unexplained(timeline: Mapping[str, Any], md: Markdown) -> list[str]:
    """The flag at the top of the page: releases far slower than their neighbours with no measured cause."""
    rows = unexplained(timeline.get("pace") or [])
    if not rows:
        return []
    names = ", ".join(brief(row) for row in rows)
    return [f"**{len(rows)} release cost{'s' if len(rows) == 1 else ''} far above the neighbours' with no measured "
            f"cause:** {md.text(names)}. See *Slower than the neighbours*.", ""]


def _pace(timeline: Mapping[str, Any], md: Markdown) -> list[str]:
    """Releases whose runs cost far more than their neighbours', each with its measured cause."""
    rows = timeline.get("pace") or []
    lines = ["", f"## Slower than the neighbours ({len(rows)})", "",
             f"A release whose runs took at least {RATIO:g}× the median of up to {WINDOW} observed neighbours on "
             "each side (same cell set and expectations), in CPU seconds (load hardly moves them) or wall seconds "
             "(waiting shows only there), and why.", ""]
    if not rows:
        return [*lines, "none"]
    lines += ["| release | measure | runs s | neighbours' median s | cause | fake world's |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        cause = md.cell(row["cause"]) if row["cause"] else "**not measured yet**"
        lines.append(f"| {md.cell(row['version'])} | {md.cell(row['measure'])} | {row['seconds']} "
                     f"| {row['neighbours_median_s']} | {cause} | {whose(row)} |")
    return lines


def _tests(timeline: Mapping[str, Any], md: Markdown) -> list[str]:
    """Each contract test's history: a row per test that ever failed, then those that always held."""
    rows = timeline.get("tests") or []
    if not rows:
        return []
    order = {v: i for i, v in enumerate(timeline["observed"])}
    failing = [r for r in rows if not r["always_held"]]
    lines = ["", f"## Contract tests: where each started to hold or to fail ({len(rows)})", "",
             "Per release, a test *fails* where any finished cell failed it (a known regression's xfail "
             "included) and *holds* where it passed and failed nowhere; releases where it did not run or only "
             "skipped say nothing.", "",
             f"### Failed somewhere ({len(failing)})", "", "| test | history | now |", "|---|---|---|"]
    for row in failing:
        history = "; ".join(span_text(s) for s in row["spans"])
        lines.append(f"| {md.code(row['test'], in_table=True)} | {md.cell(history)} | "
                     f"{'holds' if row['holds_now'] else '**fails**'} |")
    since = held_since(rows)
    lines += ["", f"### Held on every release they ran on ({sum(len(v) for v in since.values())})", ""]
    for first in sorted(since, key=lambda v: order.get(v, 0)):
        lines.append(f"- from {md.cell(first)}: " + ", ".join(md.code(t) for t in since[first]))
    return lines
