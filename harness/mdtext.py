"""Any text into Markdown without changing the document around it: the one escaper of every Markdown writer.

report.md, atlas.md and ``diff``'s Markdown carry values that come from elsewhere: test messages,
cell ids and fingerprint values from shards other jobs wrote, stderr lines a build printed. Put in
raw, a message holding three backticks ended its fence and the HTML after it was live; a ``|`` or a
newline cut a table row; an ANSI escape drove the terminal that showed the file. So:

* :func:`text` — prose, list items and table cells: ``& < >`` become entities (no live HTML), Markdown
  punctuation is backslash-escaped (no emphasis, links, headings or nested lists appear), ``|`` is
  escaped and line breaks become ``<br>`` (a table row or list item stays one line).
* :func:`code` — an inline code span fenced by more backticks than the longest run inside it (padded
  when the content starts or ends with a backtick), newlines as spaces, ``|`` escaped inside tables.
* :func:`fence` — a fenced block whose fence is longer than any backtick run in its content.
* :func:`link` — a link whose label is :func:`text` and whose URL cannot end early.
* :func:`open_fence` — the fence a document cut short leaves open, so whoever cuts can close it.

Everywhere, control characters (C0 but tab, DEL, C1) are shown as their Unicode control pictures
(``\\x1b`` → ``␛``): visible to a reader, inert in a terminal. :class:`Markdown` applies a mask (the
redactor) to each value *before* escaping: masking escaped text could miss a secret split by an
escape, or eat the escape itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

#: CommonMark line endings, plus the characters Python and some viewers also break lines at.
_NEWLINE = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f]")
#: Punctuation with an inline meaning in CommonMark + GFM (code, emphasis, links, table cells,
#: strikethrough, escapes), backslash-escaped; ``_`` only where it can open or close emphasis (intraword
#: ``cached_input_tokens`` stays readable), ``& < >`` become entities.
_INLINE = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_CHARS = re.compile("[&<>]")
#: What opens a block at the start of a list item's content: a heading, a quote, a list marker, a rule.
_BLOCK_START = re.compile(r"^(?:#{1,6}(?=\s|$)|[+\-=](?=[\s\-=]|$)|\d{1,9}(?=[.)](?:\s|$)))")
_BACKTICKS = re.compile("`+")
#: URL characters left as they are in a link destination; ``( ) < >``, spaces, backticks and the rest are encoded.
_URL_SAFE = ":/?#@!$&'*+,;=%~"


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def visible(value: object) -> str:
    """``value`` as text with control characters shown as control pictures (line breaks kept)."""
    return _CONTROL.sub(_picture, str(value))


def _inline(line: str) -> str:
    line = _INLINE.sub(lambda m: "\\" + m.group(), line)
    return _HTML_CHARS.sub(lambda m: _HTML[m.group()], line)


def text(value: object) -> str:
    """Inline Markdown that shows ``value`` literally, on one line; safe in prose, list items and table cells.

    Leading and trailing white space is dropped (Markdown would drop or misread it: four leading spaces
    in a list item open a code block).
    """
    escaped = "<br>".join(_inline(line) for line in _NEWLINE.split(visible(value).strip()))
    if (start := _BLOCK_START.match(escaped)) is not None:
        head = start.group()
        escaped = ("\\" + escaped) if not head[0].isdigit() else head + "\\" + escaped[len(head):]
    return escaped


def cell(value: object) -> str:
    """A table cell's content: :func:`text` (pipes and line breaks are already handled there)."""
    return text(value)


def _longest_run(value: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(value)), default=0)


def code(value: object, *, in_table: bool = False) -> str:
    """An inline code span showing ``value`` literally (HTML inside a code span is never live)."""
    content = _NEWLINE.sub(" ", visible(value))
    if in_table:
        content = content.replace("|", "\\|")  # GFM splits rows before it sees code spans
    if not content:
        return "` `"
    ticks = "`" * (_longest_run(content) + 1)
    edge_space = content.startswith(" ") and content.endswith(" ") and content.strip() != ""
    pad = " " if content.startswith("`") or content.endswith("`") or edge_space else ""
    return f"{ticks}{pad}{content}{pad}{ticks}"


def fence(value: object, info: str = "") -> list[str]:
    """A fenced code block of ``value`` (one list item per line), closed only by its own fence."""
    body = _NEWLINE.split(visible(value))
    ticks = "`" * max(3, _longest_run("\n".join(body)) + 1)
    return [ticks + text(info).replace("`", ""), *body, ticks]


_TICKED = re.compile(r"`([^`]+)`")


def ticked(value: object, *, in_table: bool = False) -> str:
    """Text whose single-backtick spans are meant as code (the project's own labels, as atlas.html's
    ``_ticks`` reads them): each span through :func:`code`, the rest through :func:`text`."""
    def prose(segment: str) -> str:  # text() drops the spaces around a segment: keep one where there was any
        core = text(segment)
        lead = " " if segment[:1].isspace() else ""
        trail = " " if segment[-1:].isspace() and core else ""
        return lead + core + trail

    source = str(value).strip()
    parts, last = [], 0
    for match in _TICKED.finditer(source):
        parts += [prose(source[last:match.start()]), code(match.group(1), in_table=in_table)]
        last = match.end()
    parts.append(prose(source[last:]))
    return "".join(parts)


_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def open_fence(markdown: str) -> str | None:
    """The fence a document cut short leaves open (to close it with), or None when every block is closed."""
    opened: str | None = None
    for line in markdown.split("\n"):
        match = _FENCE_LINE.match(line)
        if match is None:
            continue
        run, rest = match.groups()
        if opened is None:
            if not (run[0] == "`" and "`" in rest):  # a backtick fence's info string holds no backtick
                opened = run
        elif run[0] == opened[0] and len(run) >= len(opened) and not rest.strip():
            opened = None
    return opened


def link(label: object, url: str) -> str:
    """``[label](url)`` with the label escaped and the URL percent-encoded where it could end the link."""
    return f"[{text(label)}]({quote(url, safe=_URL_SAFE)})"


class Markdown:
    """The escapers with a mask (the redactor) applied to each value first; the identity by default."""

    def __init__(self, mask: Callable[[str], str] | None = None) -> None:
        self.mask = mask or (lambda value: value)

    def text(self, value: object) -> str:
        return text(self.mask(str(value)))

    def cell(self, value: object) -> str:
        return cell(self.mask(str(value)))

    def code(self, value: object, *, in_table: bool = False) -> str:
        return code(self.mask(str(value)), in_table=in_table)

    def fence(self, value: object, info: str = "") -> list[str]:
        return fence(self.mask(str(value)), info)

    def ticked(self, value: object, *, in_table: bool = False) -> str:
        return ticked(self.mask(str(value)), in_table=in_table)

    def link(self, label: object, url: str) -> str:
        return link(self.mask(str(label)), self.mask(url))
