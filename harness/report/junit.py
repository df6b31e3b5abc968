"""``junit.xml``: one suite per cell, for CI systems that read JUnit."""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from harness.redact import Redactor
from harness.results import RunResults


def write_junit(results: RunResults, out_dir: Path, redactor: Redactor) -> Path:
    """One suite per cell, with the cell's coordinates and outcome as suite properties."""
    xml = JUnitXml(name="codex-native-matrix")
    for r in results.cells:
        suite = TestSuite(r.cell.id)
        for key, value in (("version", r.cell.version), ("credential", r.cell.credential),
                           ("policy", r.cell.policy), ("expected", r.cell.expect), ("status", r.status),
                           ("protocol", str(r.fingerprint.get("protocol")))):
            suite.add_property(key, value)
        for t in r.tests:
            case = TestCase(t.name, classname=r.cell.id, time=t.duration_s)
            message = redactor(t.message)
            if t.outcome == "fail":
                case.result = [Failure(message)]
            elif t.outcome == "error":
                case.result = [Error(message)]
            elif t.outcome in ("xfail", "skip"):
                case.result = [Skipped(message or t.outcome)]
            suite.add_testcase(case)
        if not r.tests:
            case = TestCase("cell", classname=r.cell.id)
            case.result = [Error(redactor(r.message or "no tests ran"))]
            suite.add_testcase(case)
        suite.update_statistics()  # type: ignore[no-untyped-call]
        xml.add_testsuite(suite)
    xml.update_statistics()  # type: ignore[no-untyped-call]
    path = out_dir / "junit.xml"
    xml.write(str(path), pretty=True)
    return path
