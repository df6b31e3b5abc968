"""Markdown writers show hostile values literally (issue 27, cause 10).

report.md, atlas.md and ``diff``'s Markdown put messages, ids and fingerprint values in raw: a message
holding three backticks ended its fence and the HTML after it was live, a ``|`` or a newline cut a table
row, an ANSI escape reached the terminal showing the file. Each document here is rendered with
markdown-it-py (CommonMark with GFM tables and strikethrough, raw HTML allowed as GitHub allows it) and
checked: no live HTML element besides the writers' own ``<br>``, every fence and table as the writer
meant it, every hostile value shown whole, no control character in the file.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from harness.atlas.markdown import render_markdown as render_atlas
from harness.atlas.record import new_record
from harness.atlas.timeline import build_timeline
from harness.diff import diff_sides, side_of
from harness.diff import render_markdown as render_diff
from harness.mdtext import code, fence, link, open_fence, text, ticked, visible
from harness.redact import Redactor
from harness.report import render_markdown as render_report
from harness.report import write_markdown
from harness.results import CellResult, RunResults
from harness.suite.protocol import CellSpec, TestRecord

SCRIPT = "<script>alert(1)</script>"
HOSTILE = [
    f"```\n{SCRIPT}\n```",
    "a | b | c",
    "one\n# not a heading\n- not a list\n1. nor this",
    "\x1b[31mred\x1b[0m and nul\x00",
    "`` two ``` three ```` four",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1)) *em* _u_ ~~s~~ &lt;",
    "trailing backslash \\",
]
ALL = "\n".join(HOSTILE)
PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def tags(markdown: str) -> set[str]:
    parser = _Tags()
    parser.feed(PARSER.render(markdown))
    return parser.tags


#: Elements hostile values would make: live HTML, links, emphasis, strikethrough, headings, ordered lists.
FORBIDDEN = {"script", "img", "iframe", "a", "em", "del", "h1", "h2", "h4", "ol"}
#: What the writers use themselves: headings, emphasis in their own prose, release links (checked apart).
WRITERS_OWN = {"h1", "h2", "em", "a"}


def assert_inert(markdown: str, own: frozenset[str] | set[str] = frozenset()) -> list[Token]:
    """No element but those the writer means, no control character; returns the token stream."""
    assert not tags(markdown) & (FORBIDDEN - set(own))
    assert "\x1b" not in markdown and "\x00" not in markdown
    return PARSER.parse(markdown)


def inline_texts(tokens: list[Token]) -> list[str]:
    """Every inline run as a reader sees it (text, code spans, <br> as newlines)."""
    out = []
    for token in tokens:
        if token.type == "inline" and token.children is not None:
            parts = []
            for child in token.children:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif (child.type == "html_inline" and child.content == "<br>") or child.type == "softbreak":
                    parts.append("\n")
            out.append("".join(parts))
    return out


def shown(value: str) -> str:
    """What a reader must see for ``value`` in prose: control pictures, no leading/trailing space."""
    return visible(value).strip()


# -- the helper ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_text_is_shown_literally_on_one_line(value: str) -> None:
    rendered = text(value)
    assert "\n" not in rendered
    tokens = assert_inert(f"- {rendered}\n")
    assert inline_texts(tokens) == [shown(value)]
    assert [t.type for t in tokens].count("list_item_open") == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_code_span_holds_any_backtick_run(value: str) -> None:
    tokens = assert_inert(f"x {code(value)} y\n")
    spans = [c.content for t in tokens if t.children for c in t.children if c.type == "code_inline"]
    assert spans == [" ".join(visible(value).splitlines())]


@pytest.mark.parametrize("value", HOSTILE)
def test_table_cells_stay_cells(value: str) -> None:
    table = f"| a | b |\n|---|---|\n| {text(value)} | {code(value, in_table=True)} |\n"
    tokens = assert_inert(table)
    assert [t.type for t in tokens].count("td_open") == 2
    assert inline_texts(tokens)[2:] == [shown(value), " ".join(visible(value).splitlines())]


def test_fence_is_longer_than_any_backtick_run() -> None:
    lines = fence(ALL)
    assert lines[0] == lines[-1] == "`````"
    tokens = assert_inert("\n".join(lines) + "\n\nafter\n")
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].content == visible(ALL) + "\n"
    assert inline_texts(tokens) == ["after"]


def test_ticked_labels_keep_their_code_spans_and_nothing_else() -> None:
    label = "`tool-race`: a <b>command</b>|`a|b` *not* em"
    tokens = assert_inert(f"| x |\n|---|\n| {ticked(label, in_table=True)} |\n")
    cells = [t for t in tokens if t.type == "inline"][1].children
    assert cells is not None
    assert [(c.type, c.content) for c in cells if c.content] == [
        ("code_inline", "tool-race"), ("text", ": a <b>command</b>|"), ("code_inline", "a|b"), ("text", " *not* em")]


def test_open_fence_names_the_block_a_cut_leaves_open() -> None:
    lines = ["# report", "", *fence(ALL), "", "after"]
    assert open_fence("\n".join(lines)) is None
    assert open_fence("\n".join(lines[:5])) == "`````"  # cut inside the block: its own fence closes it
    assert open_fence("```py\ncode\n  ```\n~~~\nx") == "~~~" and open_fence("``` `not a fence`\n") is None


def test_link_label_and_url_cannot_break_out() -> None:
    tokens = assert_inert(link("0.1](x) <b>", "https://github.com/openai/codex/releases/tag/rust-v0.1 )<b>") + "\n",
                          {"a"})
    [inline] = [t for t in tokens if t.type == "inline"]
    assert inline.children is not None
    [opener] = [c for c in inline.children if c.type == "link_open"]
    assert opener.attrs["href"] == "https://github.com/openai/codex/releases/tag/rust-v0.1%20%29%3Cb%3E"
    assert inline_texts(tokens) == ["0.1](x) <b>"]


# -- the writers ----------------------------------------------------------------------------------------


def hostile_results() -> RunResults:
    cell = CellSpec("0.117.0", "codex|<b>key", "persistent", ("ok",), expect="legacy-fallback",
                    expect_reason=HOSTILE[2])
    tests = [TestRecord(cell.id, f"test_{i}[ok|`x`]", "ok", "fail", value, 0.1) for i, value in enumerate(HOSTILE)]
    result = CellResult(cell, "fail", tests=tests, message=ALL, artifacts="/out/raw/a|b `c`",
                        resolver={"native": {"state": "degraded", "reason": HOSTILE[5]}, "resolved": "api"})
    builds = {"0.117.0": {"protocol": HOSTILE[1], "stderr": HOSTILE, "tools_declared": [SCRIPT],
                          "event_types": ["a|b"], "flags": []}}
    return RunResults(started=datetime(2026, 12, 1, tzinfo=UTC), duration_s=1.0, cells=[result], builds=builds)


def test_report_md_shows_hostile_values_literally() -> None:
    markdown = render_report(hostile_results())
    tokens = assert_inert(markdown, WRITERS_OWN - {"a", "em"})
    fences = [t for t in tokens if t.type == "fence"]
    assert [f.content for f in fences] == [visible(ALL) + "\n"]  # the message is one block, whole
    seen = "\n".join(inline_texts(tokens))
    for value in HOSTILE:
        assert shown(value) in seen  # each test message whole, as a reader sees it
    assert SCRIPT in seen and "codex|<b>key / persistent" in seen
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 2 + 2 + 2  # grid, resolver grid, fingerprints: a header row and one row each


def test_report_md_masks_before_escaping(tmp_path: Path) -> None:
    results = hostile_results()
    first = results.cells[0].tests[0]
    results.cells[0].tests[0] = replace(first, message='Set it with: echo "api_key=abcd" and `api_key=wxyz`')
    path = write_markdown(results, tmp_path, Redactor())
    markdown = path.read_text(encoding="utf-8")
    assert "abcd" not in markdown and "wxyz" not in markdown
    assert 'Set it with: echo "api_key=\\*\\*\\*" and \\`api_key=\\*\\*\\*\\`' in markdown


def hostile_timeline() -> dict[str, Any]:
    records = []
    for version, stderr in (("0.98.0", ()), ("0.99.0", tuple(HOSTILE))):
        record = new_record(version, version)
        record["status"] = "ok"
        record["fingerprint"] = {"protocol": "thread-events", "flags": ["--json"], "event_types": [],
                                 "item_types": [], "usage_keys": [], "tools_declared": [SCRIPT],
                                 "credential_sources_honoured": [], "session_files": {}, "stderr": list(stderr),
                                 "model_catalog": []}
        record["cells"], record["tests"], record["failures"] = {}, {}, {}
        records.append(record)
    broken = new_record("0.100.0", "0.100.0")
    broken["status"] = "not-installable"
    broken["error"] = {"phase": "fetch|`x`", "message": ALL}
    records.append(broken)
    return build_timeline(records)


def test_atlas_md_shows_hostile_values_literally() -> None:
    markdown = render_atlas(hostile_timeline())
    tokens = assert_inert(markdown, WRITERS_OWN)
    seen = "\n".join(inline_texts(tokens))
    for value in HOSTILE:
        assert " ".join(visible(value).splitlines()) in seen  # the stderr facts, as code
    assert shown(ALL) in seen  # the error message, whole, on its item's line
    hrefs = [c.attrs["href"] for t in tokens if t.children for c in t.children if c.type == "link_open"]
    assert hrefs and all(str(h).startswith("https://github.com/openai/codex/releases/tag/rust-v") for h in hrefs)


def test_diff_md_shows_hostile_values_literally() -> None:
    old = hostile_results()
    new = hostile_results()
    new.builds = {"0.117.0": {**old.builds["0.117.0"], "stderr": [], "tools_declared": ["x"]}}
    new.cells[0].tests = [TestRecord(t.cell, t.name, t.scenario, "pass", "", 0.1) for t in old.cells[0].tests]
    markdown = render_diff(diff_sides(side_of(old, "0.117.0"), side_of(new, "0.117.0")))
    tokens = assert_inert(markdown, {"h1", "h2"})
    seen = "\n".join(inline_texts(tokens))
    for value in HOSTILE:
        assert " ".join(visible(value).splitlines()) in seen
    assert "test_0[ok|`x`]" in seen and "codex|<b>key" in seen
