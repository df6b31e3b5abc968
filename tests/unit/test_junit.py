"""junit.xml tells the same verdict as results.json, validates against Jenkins' schema, and survives any text.

Cells are harvested from raw output dirs written with the wall's own types, as a container leaves them,
so the lane times come from ``facts.json`` the way a real run's do.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from harness.redact import Redactor
from harness.report import write_junit
from harness.report.junit import bin_xml_escape, classname
from harness.results import CellResult, RunResults, now
from harness.run import JobEnd, harvest
from harness.suite.facts import Facts
from harness.suite.protocol import LOG_FILE, CellSpec, FinishLine, PlanLine, TestRecord, log_line, scenario_dir
from tests.unit.jenkins_xsd import jenkins_junit_xsd

CELL = CellSpec("0.117.0", "codex-api-key", "persistent", ("ok", "hang", "tool"))
LANES = {"ok": 5.25, "hang": 30.5, "tool": 7.125}  # wall_s of each scenario's lane run


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(jenkins_junit_xsd()))


def rec(name: str, outcome: str, message: str = "", scenario: str | None = None) -> TestRecord:
    scenario = scenario if scenario is not None else name.partition("[")[2].rstrip("]")
    return TestRecord(cell=CELL.id, name=name, scenario=scenario, outcome=outcome, message=message, duration_s=0.01)


def cell(tmp_path: Path, tests: list[TestRecord], *, planned: int | None = None, end: JobEnd | None = None,
         finished: bool = True, plan: bool = True) -> CellResult:
    """Harvest one cell from a raw dir holding its suite log and one facts.json per scenario."""
    raw = tmp_path / "raw"
    raw.mkdir()
    head = [PlanLine({CELL.id: len(tests) if planned is None else planned})] if plan else []
    lines = [*head, *tests, *([FinishLine(0)] if finished else [])]
    (raw / LOG_FILE).write_text("".join(log_line(x) for x in lines), encoding="utf-8")
    for scenario, wall in LANES.items():
        d = scenario_dir(raw, CELL.id, scenario)
        d.mkdir(parents=True)
        (d / "facts.json").write_text(json.dumps(Facts(protocol="thread-events", wall_s=wall).to_json()))
    [result] = harvest([CELL], raw, end or JobEnd(exit_code=0))
    return result


def write(tmp_path: Path, *cells: CellResult, redactor: Redactor | None = None) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    results = RunResults(started=now(), duration_s=99.5, cells=list(cells))
    return write_junit(results, out, redactor or Redactor())


def suite_of(path: Path) -> ET.Element:
    [suite] = ET.parse(path).getroot().findall("testsuite")
    return suite


def counts(suite: ET.Element) -> tuple[int, int, int, int]:
    return (int(suite.get("tests", -1)), int(suite.get("failures", -1)), int(suite.get("errors", -1)),
            int(suite.get("skipped", -1)))


def verdicts(suite: ET.Element) -> dict[str, str]:
    """testcase name -> its child verdict tag ("" for a pass)."""
    out = {}
    for case in suite.findall("testcase"):
        children = [c.tag for c in case]
        out[case.get("name", "")] = children[0] if children else ""
    return out


def test_passing_cell(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass"), rec("test_b[hang]", "pass")])
    assert result.status == "pass"
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (2, 0, 0, 0)
    assert verdicts(suite) == {"test_a[ok]": "", "test_b[hang]": ""}


def test_failing_cell(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass"), rec("test_b[ok]", "fail", "expected 3 rows\ngot 2"),
                             rec("test_c[tool]", "error", "fixture broke")])
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (3, 1, 1, 0)
    failure = suite.find("testcase[@name='test_b[ok]']/failure")
    assert failure is not None and failure.get("message") == "expected 3 rows"
    assert failure.text == "expected 3 rows\ngot 2" and failure.get("type") == "fail"


def test_timeout_after_one_of_three_planned_is_red(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass")], planned=3,
                  end=JobEnd(timed_out=True, log_tail="still running"))
    assert result.status == "timeout" and result.unfinished == "timeout"
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (3, 0, 2, 0)
    assert verdicts(suite) == {"test_a[ok]": "", "not-run-1": "error", "not-run-2": "error"}
    error = suite.find("testcase[@name='not-run-1']/error")
    assert error is not None and error.get("type") == "timeout"
    assert "1 of 3 tests reported" in (error.get("message") or "") and "still running" in (error.text or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["status"] == "timeout" and props["unfinished"] == "timeout" and props["planned"] == "3"


def test_timeout_with_unknown_plan_still_has_an_error(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass")], end=JobEnd(timed_out=True), plan=False)
    assert result.status == "timeout" and result.planned is None  # the plan line never arrived
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (2, 0, 1, 0) and verdicts(suite)["not-run"] == "error"


def test_interrupted_cell(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass"), rec("test_b[ok]", "xfail", "known")], planned=4,
                  end=JobEnd(interrupted=True), finished=False)
    assert result.status == "error" and result.unfinished == "interrupted"
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (4, 0, 2, 1)
    assert [c.get("type") for c in suite.iter("error")] == ["interrupted", "interrupted"]


def test_cell_without_tests_has_an_error(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [], end=JobEnd(exit_code=2, log_tail="ImportError"))
    assert result.status == "error" and result.unfinished is None
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (1, 0, 1, 0) and verdicts(suite) == {"no-tests": "error"}


def test_missed_status_without_a_red_test_gets_one(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass")])
    result.status = "error"  # however a cell came to miss its expectation, it cannot show green
    path = write(tmp_path, result)
    schema.validate(str(path))
    assert counts(suite_of(path)) == (2, 0, 1, 0)


def test_xpass_is_a_failure_and_xfail_is_skipped(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "xpass", "looks fixed"), rec("test_b[hang]", "xfail", "known (x/1)"),
                             rec("test_c[tool]", "skip", "not for this build")])
    assert result.status == "fail"
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (3, 1, 0, 2)
    assert verdicts(suite) == {"test_a[ok]": "failure", "test_b[hang]": "skipped", "test_c[tool]": "skipped"}
    failure = suite.find("testcase[@name='test_a[ok]']/failure")
    assert failure is not None and failure.get("type") == "xpass" and "looks fixed" in (failure.text or "")


def test_xfail_cell_is_not_red(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass"), rec("test_b[hang]", "xfail", "known")])
    assert result.status == "xfail"
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (2, 0, 0, 1)
    skipped = suite.find("testcase[@name='test_b[hang]']/skipped")
    assert skipped is not None and skipped.get("type") == "xfail" and skipped.get("message") == "known"


def test_control_characters_are_escaped_and_secrets_redacted(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    nasty = "\x1b[31mred\x1b[0m bell\x07 nul\x00 del\x7f emoji😀 key sk-secretsecret123 <&>\""
    result = cell(tmp_path, [rec("test_a[ok]", "fail", nasty), rec("test_b\x1b[ok]", "error", "x\x0cy", "ok")],
                  planned=4, end=JobEnd(timed_out=True, log_tail="tail \x1b[2K\x08"))
    result.tests.append(rec("test_c[tool]", "xfail", "lone surrogate \ud800"))  # cannot cross the log, can reach us
    path = write(tmp_path, result, redactor=Redactor(["sk-secretsecret123"]))
    schema.validate(str(path))
    text = path.read_text(encoding="utf-8")
    assert "sk-secretsecret123" not in text and "\x1b" not in text
    suite = suite_of(path)
    assert counts(suite) == (4, 1, 2, 1)
    failure = suite.find("testcase[@name='test_a[ok]']/failure")
    assert failure is not None
    assert failure.text == '#x1B[31mred#x1B[0m bell#x07 nul#x00 del#x7F emoji😀 key *** <&>"'
    skipped = suite.find("testcase[@name='test_c[tool]']/skipped")
    assert skipped is not None and skipped.get("message") == "lone surrogate #xD800"
    assert "test_b#x1B[ok]" in verdicts(suite)
    assert any("tail #x1B[2K#x08" in (e.text or "") for e in suite.iter("error"))


def test_bin_xml_escape_keeps_legal_text() -> None:
    legal = "tab\tnl\ncr\r é ü 中 \ue000 \ufffd \U0001f600 \x80"
    assert bin_xml_escape(legal) == legal
    assert bin_xml_escape("a\x01b\x1fc\ufffe") == "a#x01b#x1Fc#xFFFE"


def test_classname_keeps_the_version_whole_and_suite_keeps_the_cell_id(tmp_path: Path,
                                                                       schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass")])
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert suite.get("name") == CELL.id == "codex0.117.0-codex-api-key-persistent"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["cell_id"] == CELL.id and props["version"] == "0.117.0"
    [case] = suite.findall("testcase")
    assert case.get("classname") == classname(CELL.id) == "codex-native-matrix.codex0_117_0-codex-api-key-persistent"
    package, _, cls = (case.get("classname") or "").rpartition(".")  # how Jenkins splits package and class
    assert package == "codex-native-matrix" and cls == "codex0_117_0-codex-api-key-persistent"
    assert "0_117_0" in cls


def test_time_is_the_lane_time(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [rec("test_a[ok]", "pass"), rec("test_b[ok]", "pass"), rec("test_c[hang]", "pass"),
                             rec("test_cell", "pass", scenario="")])
    assert result.lane_s == LANES
    path = write(tmp_path, result)
    schema.validate(str(path))
    root = ET.parse(path).getroot()
    suite = suite_of(path)
    times = {c.get("name"): float(c.get("time") or -1) for c in suite.findall("testcase")}
    assert times == {"test_a[ok]": 5.25, "test_b[ok]": 5.25, "test_c[hang]": 30.5,
                     "test_cell": 0.01}  # no lane run of its own: its own duration
    assert float(suite.get("time") or -1) == pytest.approx(sum(LANES.values()))  # each scenario once
    assert float(root.get("time") or -1) == 99.5  # the whole run's wall time
    assert root.get("skipped") is None  # not allowed on <testsuites> by junit-10.xsd


def test_whole_file_counts_add_up(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    green = cell(tmp_path / "a", [rec("test_a[ok]", "pass")])
    red = cell(tmp_path / "b", [rec("test_a[ok]", "pass")], planned=3, end=JobEnd(timed_out=True))
    path = write(tmp_path, green, red)
    schema.validate(str(path))
    root = ET.parse(path).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "0", "2")
    assert [s.get("errors") for s in root.findall("testsuite")] == ["0", "2"]


def test_cell_whose_tests_k_deselected_is_skipped_not_an_error(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    result = cell(tmp_path, [], planned=0)
    assert result.status == "skip" and result.met
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)
    assert counts(suite) == (1, 0, 0, 1) and verdicts(suite) == {"no-tests": "skipped"}


def test_shard_fields_with_control_characters_stay_well_formed(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    """Issue 27, cause 9: a merged shard's fields reach ``classname`` and ``type=``, which skipped the escaper."""
    hostile = '\x1b[31m\x00"q\'<b>&amp;\x7f'
    spec = CellSpec("0.117.0", f"codex{hostile}key", "persistent", ("ok",))
    result = CellResult(spec, status=f"error{hostile}", unfinished=f"died{hostile}", planned=2,
                        message=f"container {hostile} gone", fingerprint={"protocol": hostile},
                        tests=[TestRecord(spec.id, f"test_a{hostile}[ok]", "ok", "fail", hostile, 0.1)])
    path = write(tmp_path, result)
    schema.validate(str(path))
    suite = suite_of(path)  # an XML parser: raises on any character XML 1.0 forbids
    shown = '#x1B[31m#x00"q\'<b>&amp;#x7F'
    assert suite.get("name") == f"codex0.117.0-codex{shown}key-persistent"
    cases = suite.findall("testcase")
    assert {c.get("classname") for c in cases} == {f"codex-native-matrix.codex0_117_0-codex{shown}key-persistent"}
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.text == shown
    errors = [e for e in suite.iter("error")]
    assert errors and {e.get("type") for e in errors} == {f"died{shown}"}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["status"] == f"error{shown}" and props["unfinished"] == f"died{shown}"
    assert props["protocol"] == shown
    assert "\x1b" not in path.read_text(encoding="utf-8")
