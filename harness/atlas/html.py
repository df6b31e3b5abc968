"""``atlas.html``: the timeline as one self-contained page (inline CSS, no scripts, nothing fetched).

Kept apart from the run report's HTML on purpose, with its own small template, so the two can later
share one page machinery without either depending on the other now. Every value is escaped; links
go only to codex's release notes.

The page: the known transitions as found; a presence grid (one row per fact that changed, one column
per release, filled where the release showed the fact, hatched where the release was not observed);
the tool-race strip; each contract test's history; releases far slower than their neighbours and
why; what each release cost, as stacked bars; facts
that never changed, folded away. Known-regression rules the atlas contradicts, and slow releases with
no measured cause, are flagged at the top.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from string import Template
from typing import Any

from harness.atlas.history import held_since, span_text
from harness.atlas.known import known_rows
from harness.atlas.pace import RATIO, WINDOW, brief, unexplained, whose
from harness.atlas.releases import notes_url

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style></head>
<body>
<h1>$title</h1>
$body
</body></html>
""")

CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse}td,th{padding:2px 6px;border:1px solid #d0d7de;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px ui-monospace,monospace}a{color:#0969da;text-decoration:none}
.grid td,.grid th{padding:0;border:1px solid #eee;min-width:9px;height:14px}
.grid th.v{writing-mode:vertical-rl;transform:rotate(180deg);font:10px ui-monospace,monospace;
  padding:2px 0;font-weight:normal;background:#fff;height:5.5em;white-space:nowrap;text-align:left}
.grid td.f{padding:0 6px;white-space:nowrap;max-width:40em;overflow:hidden;text-overflow:ellipsis;font-size:12px}
.grid td.k{padding:0 6px;white-space:nowrap;color:#57606a;font-size:12px}
.grid th.v a{font:inherit}
.on{background:#2da44e}.off{background:#fff}
.na{background:repeating-linear-gradient(45deg,#eee,#eee 2px,#fff 2px,#fff 4px)}
.race td{width:12px;height:18px;padding:0;border:1px solid #fff}
.r-pass{background:#2da44e}.r-fail{background:#cf222e}.r-none{background:#d0d7de}.r-xfail{background:#bf8700}
.r-other{background:#8250df}
.bar{display:flex;height:12px;min-width:1px}.bar span{display:block;height:12px}
.p-download{background:#0969da}.p-unpack{background:#8250df}.p-image{background:#bf8700}
.p-runs{background:#2da44e}.p-other{background:#8c959f}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
.muted{color:#57606a}.bad{color:#cf222e}
.flag{border:2px solid #cf222e;padding:6px 10px;background:#ffebe9}
"""

_PHASES = ("download", "unpack", "image", "runs")


def _a(version: str | None) -> str:
    if not version:
        return "—"
    return f'<a href="{escape(notes_url(version))}">{escape(version)}</a>'


def _ticks(text: str) -> str:
    """Escape ``text`` and show its `backticked` parts as code (the known-transition names use them)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _known(timeline: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_ticks(r['what'])}</td><td><code>{escape(r['fact'])}</code></td><td>{escape(r['known'])}</td>"
        f"<td><b>{escape(r['found'])}</b></td></tr>" for r in known_rows(timeline))
    return ("<h2>Known transitions, as found</h2><table><tr><th>transition</th><th>fact</th><th>known</th>"
            f"<th>found by the atlas</th></tr>{rows}</table>")


def _span_text(fact: Mapping[str, Any]) -> tuple[str, str]:
    appeared, gone = [], []
    for s in fact["spans"]:
        appeared.append(f"{_a(s['appeared'])} <span class=muted>after {escape(s['appeared_after'])}</span>"
                        if s["appeared_after"] else f"≤ {escape(s['appeared'])}")
        gone.append(_a(s["went_away"]) if s["went_away"] else "—")
    return "<br>".join(appeared), "<br>".join(gone)


def _grid(timeline: Mapping[str, Any]) -> str:
    releases: Sequence[Mapping[str, Any]] = timeline["releases"]
    observed = set(timeline["observed"])
    changing = [f for f in timeline["facts"] if not f["constant"]]
    head = "".join(f'<th class=v title="{escape(r["version"])}">{escape(r["version"])}</th>' for r in releases)
    rows = []
    for fact in changing:
        present: set[str] = set()
        order = [r["version"] for r in releases if r["version"] in observed]
        for s in fact["spans"]:
            start, end = order.index(s["appeared"]), order.index(s["last_seen"])
            present.update(order[start:end + 1])
        cells = []
        for r in releases:
            v = r["version"]
            cls = "na" if v not in observed else "on" if v in present else "off"
            cells.append(f'<td class={cls} title="{escape(v)}"></td>')
        appeared, gone = _span_text(fact)
        rows.append(f"<tr><td class=k>{escape(fact['label'])}</td><td class=f title=\"{escape(fact['value'])}\">"
                    f"<code>{escape(fact['value'])}</code></td><td class=k>{appeared}</td><td class=k>{gone}</td>"
                    f"{''.join(cells)}</tr>")
    return (f"<h2>Facts that changed ({len(changing)})</h2>"
            "<p class=muted>Green: the release showed the fact; white: it did not; hatched: not observed (could "
            "not be installed or run). Release names link to their notes.</p>"
            "<div style='overflow-x:auto'><table class=grid><tr><th>kind</th><th>fact</th><th>appeared</th>"
            f"<th>went away</th>{head}</tr>{''.join(rows)}</table></div>")


def _race(timeline: Mapping[str, Any]) -> str:
    by_version = {row["version"]: row for row in timeline["tool_race"]}
    cells, labels = [], []
    for r in timeline["releases"]:
        row = by_version.get(r["version"])
        counts = row["counts"] if row else {}
        failing = len(row["failing_cells"]) if row else 0
        other = counts.get("fail", 0) + counts.get("error", 0) - failing
        cls = ("r-none" if not row or not row["ran"] else "r-fail" if failing else
               "r-other" if other > 0 else "r-xfail" if counts.get("xfail") else "r-pass")
        tip = f"{r['version']}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "not observed")
        if row and row["failing_cells"]:
            tip += " — failing: " + ", ".join(row["failing_cells"])
        cells.append(f'<td class={cls} title="{escape(tip)}"></td>')
        labels.append(f'<th class=v>{_a(r["version"])}</th>')
    return ("<h2>tool-race</h2><p class=muted>A 0.3 s command, its follow-up answered at once. Red: in a "
            "cell, a tool-race test failed that passed under <code>tool</code> (the race); purple: tool turns fail "
            "there anyway; green: all passed; grey: not observed or not run (hover for counts and cells).</p>"
            "<div style='overflow-x:auto'><table class='race grid'>"
            f"<tr>{''.join(labels)}</tr><tr>{''.join(cells)}</tr></table></div>")


def _cost(timeline: Mapping[str, Any]) -> str:
    releases = timeline["releases"]
    widest = max((float(r["timings"].get("total_s", 0) or 0) for r in releases), default=0.0) or 1.0
    rows = []
    for r in releases:
        t = r["timings"]
        parts = {p: float(t.get(f"{p}_s", 0) or 0) for p in _PHASES}
        parts["other"] = max(0.0, float(t.get("total_s", 0) or 0) - sum(parts.values()))
        bar = "".join(f'<span class=p-{p} style="width:{300 * s / widest:.1f}px" title="{p} {s:.1f} s"></span>'
                      for p, s in parts.items() if s > 0)
        z = r["sizes"]
        tree = f"{int(z['tree_bytes']) / 1e6:.0f}" if z.get("tree_bytes") else "—"
        status = escape(r["status"]) + (f" ({escape(r['error']['phase'])})" if r.get("error") else "")
        rows.append(f"<tr><td>{_a(r['version'])}</td><td>{status}</td>"
                    f"<td>{float(t.get('total_s', 0) or 0):.1f}</td><td>{tree}</td>"
                    f"<td>{r['cells_met']}/{r['cells']}</td><td><div class=bar>{bar}</div></td></tr>")
    cost = timeline["cost"]
    legend = "".join(f"<span class=p-{p}></span>{p}" for p in (*_PHASES, "other"))
    return (f"<h2>Cost per release</h2><p>{cost['releases']} releases, {cost['totals_s']['total_s']:.0f} s of phase "
            f"time (mean {cost['mean_total_s']} s). Consecutive releases overlap (the next is prepared while one "
            f"runs), so the atlas's wall time is below the sum.</p><p class=legend>{legend}</p>"
            "<table><tr><th>release</th><th>status</th><th>total s</th><th>tree MB</th><th>cells met</th>"
            f"<th>phases</th></tr>{''.join(rows)}</table>")


def _rules(timeline: Mapping[str, Any]) -> str:
    rows = []
    for row in timeline.get("rules") or []:
        verdict = "yes" if row["agrees"] else "<b class=bad>NO</b>"
        rows.append(f"<tr><td>{row['rule']}</td><td><code>{escape(str(row['versions']))}</code></td>"
                    f"<td>{escape(', '.join(row['tests']))}</td><td>{escape(row['claimed'])}</td>"
                    f"<td>{escape(row['observed'])}</td><td>{escape(', '.join(row['fixed_in']) or '—')}</td>"
                    f"<td>{verdict}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Known regressions: claimed vs observed</h2><p class=muted>Each xfail rule of matrix.yaml: the "
            "releases it selects and those where its tests failed as it describes. A strict rule must match "
            "exactly; a measured rate only stays inside its range.</p><table><tr><th>rule</th><th>versions</th>"
            "<th>tests</th><th>claimed</th><th>observed</th><th>fixed in</th><th>agrees</th></tr>"
            f"{''.join(rows)}</table>")


def _flag(timeline: Mapping[str, Any]) -> str:
    """At the top: the known-regression rules the atlas contradicts (``atlas`` exits 1 while one does)."""
    wrong = [row for row in timeline.get("rules") or [] if not row["agrees"]]
    if not wrong:
        return ""
    items = "".join(f"<li>rule {row['rule']} (<code>{escape(str(row['versions']))}</code>): claims "
                    f"{escape(row['claimed'])}, observed {escape(row['observed'])}</li>" for row in wrong)
    return (f"<div class=flag><b class=bad>{len(wrong)} known-regression rule{'s' if len(wrong) != 1 else ''} "
            f"disagree with the atlas</b><ul>{items}</ul></div>")


def _pace_flag(timeline: Mapping[str, Any]) -> str:
    """At the top: releases far slower than their neighbours with no measured cause."""
    rows = unexplained(timeline.get("pace") or [])
    if not rows:
        return ""
    items = "".join(f"<li>{escape(brief(row))}</li>" for row in rows)
    return (f"<div class=flag><b class=bad>{len(rows)} release cost{'s' if len(rows) == 1 else ''} far above the "
            f"neighbours' with no measured cause</b><ul>{items}</ul></div>")


def _pace(timeline: Mapping[str, Any]) -> str:
    """Releases whose runs cost far more than their neighbours', each with its measured cause."""
    rows = timeline.get("pace") or []
    unknown = "<b class=bad>not measured yet</b>"
    body = "".join(
        f"<tr><td>{_a(row['version'])}</td><td>{escape(row['measure'])}</td><td>{row['seconds']}</td>"
        f"<td>{row['neighbours_median_s']}</td><td>{escape(row['cause']) if row['cause'] else unknown}</td>"
        f"<td>{escape(whose(row))}</td></tr>" for row in rows)
    return (f"<h2>Slower than the neighbours ({len(rows)})</h2><p class=muted>A release whose runs took at least "
            f"{RATIO:g}× the median of up to {WINDOW} observed neighbours on each side (same cell set and "
            "expectations), in CPU seconds or wall seconds, and why.</p>"
            + (f"<table><tr><th>release</th><th>measure</th><th>runs s</th><th>neighbours' median s</th>"
               f"<th>cause</th><th>fake world's</th></tr>{body}</table>" if rows else "<p>none</p>"))


def _tests(timeline: Mapping[str, Any]) -> str:
    """Each contract test's history: a row per test that ever failed; those that always held, folded."""
    rows = timeline.get("tests") or []
    if not rows:
        return ""
    order = {v: i for i, v in enumerate(timeline["observed"])}
    failing = "".join(
        f"<tr><td><code>{escape(r['test'])}</code></td><td>{'<br>'.join(escape(span_text(s)) for s in r['spans'])}"
        f"</td><td>{'holds' if r['holds_now'] else '<b class=bad>fails</b>'}</td></tr>"
        for r in rows if not r["always_held"])
    since = held_since(rows)
    held = "".join(f"<li>from {_a(first)}: {', '.join(f'<code>{escape(t)}</code>' for t in since[first])}</li>"
                   for first in sorted(since, key=lambda v: order.get(v, 0)))
    return (f"<h2>Contract tests: where each started to hold or to fail ({len(rows)})</h2><p class=muted>Per "
            "release, a test fails where any finished cell failed it (a known regression's xfail included) and "
            "holds where it passed and failed nowhere; releases where it did not run or only skipped say "
            "nothing.</p><table><tr><th>test</th><th>history</th><th>now</th></tr>" + failing + "</table>"
            f"<details><summary>held on every release they ran on ({sum(len(v) for v in since.values())})"
            f"</summary><ul>{held}</ul></details>")


def _unobserved(timeline: Mapping[str, Any]) -> str:
    items = [f"<li>{_a(r['version'])}: <b>{escape(r['status'])}</b> at {escape(str((r['error'] or {}).get('phase')))}"
             f": {escape((r['error'] or {}).get('message', ''))}</li>"
             for r in timeline["releases"] if r["status"] != "ok"]
    return f"<h2>Not observed ({len(items)})</h2><ul>{''.join(items) or '<li>none</li>'}</ul>"


def _constant(timeline: Mapping[str, Any]) -> str:
    constant = [f for f in timeline["facts"] if f["constant"]]
    rows = "".join(f"<tr><td>{escape(f['label'])}</td><td><code>{escape(f['value'])}</code></td></tr>"
                   for f in constant)
    return (f"<h2>Facts present in every observed release ({len(constant)})</h2>"
            f"<details><summary>show</summary><table>{rows}</table></details>")


def render_html(timeline: Mapping[str, Any]) -> str:
    releases = timeline["releases"]
    span = f"{releases[0]['version']} … {releases[-1]['version']}" if releases else "no releases"
    intro = (f"<p>{len(releases)} stable releases ({escape(span)}), {len(timeline['observed'])} observed. "
             f"Generated {escape(timeline['generated'])}. A fact <i>appeared</i> in the first observed release that "
             "shows it and <i>went away</i> in the first observed release without it.</p>")
    body = intro + _flag(timeline) + _pace_flag(timeline) + _known(timeline) + _rules(timeline) + _grid(timeline) \
        + _race(timeline) + _tests(timeline) + _pace(timeline) + _unobserved(timeline) + _cost(timeline) \
        + _constant(timeline)
    return PAGE.substitute(title="codex release atlas", css=CSS, body=body)
