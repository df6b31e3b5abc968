"""report.html in a real browser (Debian's headless chromium): the grid renders, a cell opens to its
evidence, the filters hide what they should, and the page's script raises no error.

The page records every script error on ``<html data-js-errors>`` and sets ``data-ready`` once set up;
``--dump-dom`` prints the DOM after the load, so both can be read back. ``.ci/bootstrap`` installs
chromium on every machine, so a missing browser fails the test wherever it should be there (under
CI=true, or in the .venv that bootstrap made); only a hand-made environment skips it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.suite.protocol import CellSpec
from tests.unit.outdirs import make_out

CELLS = [CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "tool")),
         CellSpec("0.117.0", "none", "persistent", ("ok",), expect="auth-required"),
         CellSpec("0.169.0", "codex-api-key", "persistent", ("ok", "tool"))]


ROOT = Path(__file__).resolve().parents[2]


def bootstrapped() -> bool:
    """True when this interpreter is the .venv that .ci/bootstrap made (it writes the stamp last)."""
    venv = ROOT / ".venv"
    return Path(sys.prefix).resolve() == venv.resolve() and (venv / ".codex-matrix-installed").is_file()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") or bootstrapped():
            pytest.fail("chromium missing, yet .ci/bootstrap installs it: rerun bash .ci/bootstrap "
                        "(or apt-get install chromium)")
        pytest.skip("no headless browser: run bash .ci/bootstrap (it installs chromium)")
    return found


def dump_dom(page: Path, fragment: str, profile: Path) -> tuple[str, str]:
    argv = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000",
            "--dump-dom", page.resolve().as_uri() + fragment]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


class Dom(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.hidden_rows: list[str] = []
        self.details_text: list[str] = []
        self._in_details = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "tr" and "hidden" in (a.get("class") or "").split():
            self.hidden_rows.append(str(a.get("data-version")))
        if tag == "section" and a.get("id") == "details":
            self._in_details = 1
        elif self._in_details:
            self._in_details += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in_details:
            self._in_details -= 1

    def handle_data(self, data: str) -> None:
        if self._in_details:
            self.details_text.append(data)


def test_report_opens_a_cell_without_script_errors(tmp_path: Path) -> None:
    make_out(tmp_path / "out", CELLS, {CELLS[2].id: "fail"})
    page = tmp_path / "out" / "report.html"
    dom_text, log = dump_dom(page, f"#{CELLS[2].id}", tmp_path / "profile")
    dom = Dom(dom_text)
    assert dom.root.get("data-js-errors") is None, dom.root.get("data-js-errors")
    assert dom.root.get("data-ready") == "yes" and dom.root.get("data-open-cell") == CELLS[2].id
    details = " ".join(dom.details_text)
    for expected in (CELLS[2].id, "Contract tests", "boom in ok", "Transcript rows", "tool_use command_execution",
                     "Request journal", "POST 200 credential=valid", "Resolver decision"):
        assert expected in details, expected
    console_errors = [line for line in log.splitlines() if re.search(r"CONSOLE.*(Uncaught|Error)", line)]
    assert console_errors == []
    assert dom.hidden_rows == []  # every filter starts checked


def test_grid_renders_every_cell(tmp_path: Path) -> None:
    make_out(tmp_path / "out", CELLS)
    dom_text, _ = dump_dom(tmp_path / "out" / "report.html", "", tmp_path / "profile")
    assert Dom(dom_text).root.get("data-ready") == "yes"
    for cell in CELLS:
        assert f'data-id="{cell.id}"' in dom_text
