"""``report.html``: one self-contained file holding every cell, filterable, each cell's evidence embedded
(redacted, size-capped), build fingerprints with what changed between neighbouring builds."""

from __future__ import annotations

import json
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from harness.incoming.results import read_results
from harness.redact import Redactor
from harness.report.html import DETAIL_BUDGET, fingerprint_changes, render_html
from harness.results import RunResults, now
from harness.suite.protocol import TRANSCRIPT_FILE, CellSpec
from tests.unit.outdirs import make_out

SCENARIOS = ("ok", "tool", "tool-race", "unknown-model", "unauthorized", "server-error", "rate-limited",
             "disconnect", "hang")


class Page(HTMLParser):
    """The parts of the page the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: dict[str, dict[str, str | None]] = {}
        self.filters: dict[str, list[str]] = {}
        self.external: list[str] = []
        self.scripts: list[str] = []
        self.fingerprint_rows: list[str] = []
        self._script: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "td" and a.get("data-id"):
            self.cells[str(a["data-id"])] = a
        if tag == "input" and a.get("data-filter"):
            self.filters.setdefault(str(a["data-filter"]), []).append(str(a.get("value")))
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value and not value.startswith("#"):
                self.external.append(value)
        if tag in ("link", "img", "iframe"):
            self.external.append(tag)
        if tag == "script":
            self._script = []
        if tag == "tr" and a.get("data-version") is not None:
            self.fingerprint_rows.append(str(a["data-version"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def _data(page: Page) -> dict:  # type: ignore[type-arg]
    return json.loads(page.scripts[0])


def test_every_cell_is_in_the_grid_with_its_status_and_evidence(tmp_path: Path) -> None:
    cells = [CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool")),
             CellSpec("0.117.0", "none", "ephemeral", ("ok",), expect="auth-required"),
             CellSpec("0.169.0", "codex-api-key", "persistent", ("ok", "tool"))]
    make_out(tmp_path / "out", cells, {cells[2].id: "fail"})
    page = Page((tmp_path / "out" / "report.html").read_text())
    assert set(page.cells) == {c.id for c in cells}
    assert page.cells[cells[2].id]["data-status"] == "fail" and "missed" in str(page.cells[cells[2].id]["class"])
    assert page.cells[cells[0].id]["data-credential"] == "codex-api-key"
    assert page.filters == {"build": ["0.117.0", "0.169.0"], "credential": ["codex-api-key", "none"],
                            "policy": ["persistent", "ephemeral"], "status": ["pass", "fail"]}
    assert page.external == [] and len(page.scripts) == 2  # the data, the script; nothing loaded from outside
    data = _data(page)
    cell = data["cells"][cells[2].id]
    assert [data["names"][t[0]] for t in cell["tests"]] == ["test_contract[ok]", "test_contract[tool]"]
    assert cell["tests"][0][1:] == ["fail", "boom in ok"]
    tool = cell["scenarios"]["tool"]
    usage = 'usage {"input_tokens":5,"output_tokens":7}'
    assert ["assistant", f'tool_use command_execution {{"command": "echo hi"}}  {usage}'] in tool["rows"]
    assert tool["journal"] == ["POST 200 credential=valid model=gpt-5.5 tool=exec_command"]
    assert tool["summary"]["thread_status"] == "completed" and tool["stderr"]
    assert cell["resolver"]["resolved"] == "codex-native" and cell["resolver"]["native"]["state"] == "ready"
    assert "0.169.0" in page.fingerprint_rows


def test_secrets_in_artifacts_never_reach_the_page(tmp_path: Path) -> None:
    cell = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok",))
    make_out(tmp_path / "out", [cell])
    results = read_results(tmp_path / "out" / "results.json")
    transcript = Path(str(results.cells[0].artifacts)) / "ok" / TRANSCRIPT_FILE
    transcript.write_text(json.dumps({"type": "user", "message": {"content": 'key sk-live-abcdef123456 "x</script>'}})
                          + "\n")
    text = render_html(results, Redactor(["hunter2-secret"]))
    assert "sk-live-abcdef123456" not in text
    page = Page(text)  # a "</script>" in evidence cannot end the data block early
    assert _data(page)["cells"][cell.id]["scenarios"]["ok"]["rows"][0][1] == 'key *** "x</script>'


def test_default_sized_matrix_with_huge_artifacts_stays_under_2_mb(tmp_path: Path) -> None:
    """80 cells × 9 scenarios, every transcript 60 rows: the caps hold the page far below 2 MB.

    One cell's artifacts are written (real files, the real harvest); the 80 cells all point at them, so
    the page reads 80 × 9 scenarios' files as it would for the default matrix.
    """
    [sample] = make_out(tmp_path / "sample", [CellSpec("0.117.0", "codex-api-key", "persistent", SCENARIOS)],
                        transcript_rows=60).cells
    cells = [replace(sample, cell=CellSpec(v, c, p, SCENARIOS),
                     status="error" if v == "0.142.0" else "pass")
             for v in ("0.20.0", "0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0")
             for c in ("codex-api-key", "openai-api-key", "auth-json", "none", "invalid-key")
             for p in ("ephemeral", "persistent")]
    text = render_html(RunResults(started=now(), duration_s=1.0, cells=cells), Redactor())
    size = len(text.encode("utf-8"))
    assert size < 2_000_000 and size < DETAIL_BUDGET * 1.5, size
    data = _data(Page(text))
    assert len(data["cells"]) == 80
    rows = data["cells"][cells[0].cell.id]["scenarios"]["ok"]["rows"]
    assert rows[-1][0] == "…" and "more in ok/transcript.jsonl" in rows[-1][1]  # cut, and says where the rest is
    missed = data["cells"][next(c.cell.id for c in cells if c.status == "error")]["scenarios"]["ok"]["rows"]
    assert len(missed) > len(rows)  # a cell that missed its expectation gets a larger share


def test_fingerprint_changes_between_neighbouring_builds() -> None:
    builds = {
        "0.117.0": {"version_line": "codex-cli 0.117.0", "protocol": "thread-events", "flags": ["--json"],
                    "usage_keys": ["input_tokens"]},
        "0.130.0": {"version_line": "codex-cli 0.130.0", "protocol": "thread-events",
                    "flags": ["--json", "--ignore-user-config"], "usage_keys": ["input_tokens"]},
        "0.169.0": {"version_line": "codex-cli 0.169.0", "protocol": "legacy", "flags": ["--ignore-user-config"],
                    "usage_keys": ["input_tokens"]},
    }
    assert fingerprint_changes(builds) == {
        "0.130.0": ["flags: +--ignore-user-config"],
        "0.169.0": ['protocol: "thread-events" → "legacy"', "flags: −--json"],
    }


class _Cells(HTMLParser):
    """Each <td>'s text, and how many <td> opened and closed."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.opened = self.closed = 0
        self.texts: list[str] = []
        self._in = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self.opened += 1
            self._in = True
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.closed += 1
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.texts[-1] += data


def test_body_values_are_masked_before_escaping(tmp_path: Path) -> None:
    """Masking escaped HTML ate the ``</td>`` after ``api_key=abcd`` on main; with the mask's value now
    stopping at ``&`` and ``<`` it would have missed ``OPENAI_API_KEY=&quot;…&quot;``: mask, then escape."""
    results = make_out(tmp_path, [CellSpec("0.117.0", "codex-api-key", "persistent", ("ok",))])
    build = next(iter(results.builds.values()))
    build["protocol"] = "api_key=abcd"
    build["tools_declared"] = ['echo "api_key=efgh1234"', 'export OPENAI_API_KEY="ijkl5678"', "<b>bold</b>"]
    page = render_html(results, Redactor())
    body = page.split('<script id="cell-data"')[0]
    cells = _Cells(body)
    assert cells.opened == cells.closed
    assert "api_key=***" in cells.texts
    assert 'echo "api_key=***", export OPENAI_API_KEY="***", <b>bold</b>' in cells.texts
    assert "abcd" not in page and "efgh1234" not in page and "ijkl5678" not in page
