"""``junit.xml``: one suite per cell, for CI systems that read JUnit, telling the same verdict as results.json.

What the file promises, and how:

* **A cell that missed its expectation never shows green.** Every cell whose status is not
  ``pass``/``xfail``/``skip`` carries at least one ``<error>`` or ``<failure>``: each test the suite
  planned for the cell but never reported (a timeout, an interrupt, a suite that died) is an
  ``<error>`` testcase ``not-run-N`` with the cell's message (``not-run`` once when the plan is
  unknown), a cell with no tests gets an ``<error>`` testcase, and a status still left without one
  gets a ``cell-status`` error. ``fail`` is a ``<failure>``, ``error`` an ``<error>``, ``xpass`` (a strict
  known regression that passed) a ``<failure>``; ``xfail`` and ``skip`` are ``<skipped>``.
* **Any text can be written.** Every name, classname, type, message and property value passes the
  redactor, then :func:`bin_xml_escape`: characters XML 1.0 cannot carry (ANSI escapes, other C0
  controls, DEL, lone surrogates) are shown as ``#xNN``, as pytest's junitxml does. A shard's fields
  (cell ids, statuses, the unfinished reason) come from other machines, so the tree gets a last pass
  (:func:`writable`) that escapes every attribute and text whatever built it: one forgotten field
  can't make the file ill-formed.
* **It validates against Jenkins' junit-10.xsd** (the schema pytest targets; vendored in
  ``tests/unit/data``): ``<testsuites>`` carries only name/tests/failures/errors/time (no ``skipped``),
  times are plain decimals.
* **Reporters that split the classname at its last dot** (Jenkins: package . class) keep the cell whole:
  the classname is ``codex-native-matrix.<cell id with dots as underscores>``, e.g.
  ``codex-native-matrix.codex0_117_0-codex-api-key-persistent``. The suite name is the exact cell id,
  and so is the suite property ``cell_id``, so ``run --cells`` can take it back.
* **Time is where the time went.** A contract test only asserts on what its (cell, scenario) lane run left
  behind, so its own duration is ≈0. A testcase's ``time`` is the wall time of the lane run of its
  (cell, scenario) (``CellResult.lane_s``, read by the harvest from ``facts.json``'s ``wall_s``); a test
  without a lane run keeps its own duration. A suite's ``time`` is the sum of its scenarios' lane times
  (each scenario once), the top-level ``time`` the whole run's wall time.

Written with :mod:`xml.etree.ElementTree` rather than junitparser: junitparser's statistics put a
``skipped`` attribute on ``<testsuites>`` (invalid in junit-10.xsd), it does not escape XML-illegal
characters, and counting our own not-run/cell-status errors needs the elements in hand anyway. The
standard library escapes ``& < > "``; the schema test keeps the structure honest.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from harness.redact import Redactor
from harness.results import MET, CellResult, RunResults
from harness.suite.protocol import TestRecord

SUITES_NAME = "codex-native-matrix"
Text = Callable[[str], str]  # redact, then make writable
_MESSAGE_MAX = 500  # the ``message`` attribute is the first line, capped; the element's text is the whole message

# XML 1.0: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; like pytest,
# DEL (#x7F) is shown escaped too, since terminals and CI log viewers treat it as a control character.
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\x7e\x80-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def bin_xml_escape(text: object) -> str:
    """Show characters XML cannot carry as ``#xNN`` (``#xNNNN`` above 0xFF), as pytest's junitxml does.

    ``'red \\x1b[31m'`` becomes ``'red #x1B[31m'``: a visible marker for a reader, not an XML character
    reference (which would be just as illegal).
    """

    def show(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"#x{code:02X}" if code <= 0xFF else f"#x{code:04X}"

    return _ILLEGAL_XML.sub(show, str(text))


def classname(cell_id: str) -> str:
    """``codex-native-matrix.<cell id, dots → underscores>``: one dot, so a last-dot split keeps the cell."""
    return f"{SUITES_NAME}.{cell_id.replace('.', '_')}"


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"  # junit-10.xsd's SUREFIRE_TIME: digits, optional fraction


class _Suite:
    """One cell's ``<testsuite>`` under construction, counting what it appends."""

    def __init__(self, result: CellResult, text: Text) -> None:
        self.result = result
        self.text = text
        self.cases: list[ET.Element] = []
        self.counts = {"failure": 0, "error": 0, "skipped": 0}

    def case(self, name: str, time_s: float, verdict: str | None = None, kind: str = "",
             message: str = "") -> None:
        case = ET.Element("testcase", {"name": self.text(name), "classname": self.text(classname(self.result.cell.id)),
                                       "time": _seconds(time_s)})
        if verdict is not None:
            body = self.text(message)
            first = next((line.strip() for line in body.splitlines() if line.strip()), kind)[:_MESSAGE_MAX]
            node = ET.SubElement(case, verdict, {"type": self.text(kind), "message": first})
            node.text = body or None
            self.counts[verdict] += 1
        self.cases.append(case)

    def record(self, t: TestRecord) -> None:
        lanes = self.result.lane_s
        time_s = lanes[t.scenario] if t.scenario is not None and t.scenario in lanes else t.duration_s
        if t.outcome == "fail":
            self.case(t.name, time_s, "failure", "fail", t.message or "failed")
        elif t.outcome == "error":
            self.case(t.name, time_s, "error", "error", t.message or "error")
        elif t.outcome == "xpass":
            self.case(t.name, time_s, "failure", "xpass",
                      "strict known regression did not show: fixed? remove the xfail rule"
                      + (f"\n{t.message}" if t.message else ""))
        elif t.outcome in ("xfail", "skip", "n/a"):  # n/a: the lane lacks what the test needs, never a pass
            self.case(t.name, time_s, "skipped", t.outcome, t.message or t.outcome)
        else:
            self.case(t.name, time_s)

    def element(self, timestamp: str) -> ET.Element:
        r = self.result
        suite = ET.Element("testsuite", {
            "name": self.text(r.cell.id),
            "tests": str(len(self.cases)),
            "failures": str(self.counts["failure"]),
            "errors": str(self.counts["error"]),
            "skipped": str(self.counts["skipped"]),
            "time": _seconds(sum(r.lane_s.values())),
            "timestamp": timestamp,
        })
        props = ET.SubElement(suite, "properties")
        values: list[tuple[str, object]] = [
            ("cell_id", r.cell.id), ("version", r.cell.version), ("credential", r.cell.credential),
            ("policy", r.cell.policy), ("expected", r.cell.expect), ("status", r.status),
            ("protocol", r.fingerprint.get("protocol")),
        ]
        if r.unfinished is not None:
            values.append(("unfinished", r.unfinished))
        if r.planned is not None:
            values.append(("planned", r.planned))
        for key, value in values:
            ET.SubElement(props, "property", {"name": key, "value": self.text(str(value))})
        suite.extend(self.cases)
        return suite


def writable(root: ET.Element) -> ET.Element:
    """Every attribute value, text and tail of the tree through :func:`bin_xml_escape` (idempotent)."""
    for node in root.iter():
        for key, value in node.attrib.items():
            node.set(key, bin_xml_escape(value))
        if node.text is not None:
            node.text = bin_xml_escape(node.text)
        if node.tail is not None:
            node.tail = bin_xml_escape(node.tail)
    return root


def _cell_suite(r: CellResult, text: Text) -> _Suite:
    suite = _Suite(r, text)
    for t in r.tests:
        suite.record(t)
    why = r.message or f"cell {r.status}"
    if r.unfinished is not None:
        missing = (r.planned or 0) - len(r.tests)
        if r.planned is None or missing <= 0:
            suite.case("not-run", 0.0, "error", r.unfinished, why)
        for i in range(1, missing + 1):
            suite.case(f"not-run-{i}", 0.0, "error", r.unfinished, why)
    if not suite.cases and r.status == "skip":  # `-k` selected none of its tests: nothing failed
        suite.case("no-tests", 0.0, "skipped", "skip", r.message or "no test selected")
    elif not suite.cases:
        suite.case("no-tests", 0.0, "error", "no-tests", r.message or "no tests ran")
    if r.status not in MET and not (suite.counts["failure"] or suite.counts["error"]):
        suite.case("cell-status", 0.0, "error", r.status, why)  # a missed expectation is never green
    return suite


def write_junit(results: RunResults, out_dir: Path, redactor: Redactor) -> Path:
    """One suite per cell, with the cell's coordinates and outcome as suite properties."""

    def text(value: str) -> str:
        return bin_xml_escape(redactor(value))

    timestamp = results.started.isoformat(timespec="seconds")
    suites = [_cell_suite(r, text) for r in results.cells]
    root = ET.Element("testsuites", {
        "name": SUITES_NAME,
        "tests": str(sum(len(s.cases) for s in suites)),
        "failures": str(sum(s.counts["failure"] for s in suites)),
        "errors": str(sum(s.counts["error"] for s in suites)),
        "time": _seconds(results.duration_s),
    })
    root.extend(s.element(timestamp) for s in suites)
    ET.indent(root)
    path = out_dir / "junit.xml"
    ET.ElementTree(writable(root)).write(path, encoding="utf-8", xml_declaration=True)
    return path
