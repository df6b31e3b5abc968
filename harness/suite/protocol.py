"""The wall between the host and the per-version containers: every file and variable that crosses it.

Standard library only: both sides import this module, and inside a container only python3 and pytest
exist. Each type that crosses owns both ends of its serialization (``to_json`` / ``from_json``), the
way pytest's ``TestReport`` owns ``_to_json``/``_from_json``, so a field added on one side cannot be
forgotten on the other.

What crosses, and in which direction:

* host → container: ``SPEC_FILE`` (a :class:`SuiteSpec`: the cells of one container and the timeouts),
  and the environment variables ``ENV_*``;
* container → host: ``LOG_FILE``, one JSON object per line, appended as the suite goes (like pytest's
  ``report_log``): first a :class:`PlanLine` (how many tests each cell will report), then one
  :class:`TestRecord` per test, and a :class:`FinishLine` when the session ends normally. A suite cut
  short by a timeout or a kill leaves the lines it wrote, so the host never loses what was reported;
* container → host, per (cell, scenario): the artifacts under ``CELLS_DIR/<cell>/<scenario>/``, of which
  the host reads :class:`~harness.suite.facts.Facts` (``FACTS_FILE``) and the resolver decision (``RESOLVER_FILE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.lanes.catalog import PYTHON, parse_lane
from harness.suite.sandboxes import DEFAULT_SANDBOX as DEFAULT_SANDBOX  # re-exported: cell ids use it

SCHEMA = 2

#: Inside the container: where the package and the contract suite are mounted, and the output dir.
CONTAINER_PACKAGE_ROOT = "/cnm"
CONTAINER_SUITE_DIR = "/cnm/contract"
CONTAINER_OUT = "/out"
CONTAINER_SLOTS = "/cnm-slots"
#: Where the lane runs' worlds live (each run's HOME, CODEX_HOME and working dir). Not under $TMPDIR:
#: codex refuses to set up its helper binaries there.
CONTAINER_WORKROOT = "/var/tmp/cnm"
#: The work root is a tmpfs of the run container. A run of a fresh CODEX_HOME is codex's first start
#: there: it creates its SQLite state databases (~80 fsyncs, ~1,400 writes), installs its system skills
#: and writes the rollout, all of it thrown away afterwards. On the container's overlay layer that file
#: work was a third of 0.169.0's CPU per run (0.22 s -> 0.15 s on tmpfs, in the base image, median of
#: 10), and ~300 MB of each container's layer on disk (1.8 MB a run, ~170 runs a release). Codex sees an
#: ordinary writable, executable directory either way. Memory is used only as it fills; the size bounds it.
CONTAINER_WORKROOT_TMPFS = "rw,exec,size=2g,mode=1777"
#: The lane a cell names when it names none: ours (harness.lanes.catalog)
PYTHON_LANE = PYTHON
#: Where the host mounts what foreign lanes need, read-only: ``codex-sdk/<version>/dist`` (the SDK cache).
CONTAINER_LANES_DIR = "/cnm-lanes"
#: The run containers' hostname, resolvable through their /etc/hosts as any real machine's own name is.
#: Without it a musl build that looks its host up (0.123-0.14x do, at exit) waits out the resolver's 5 s
#: timeout against the unreachable nameserver of a network-less container: every run 5 s longer.
CONTAINER_HOSTNAME = "codex-matrix"
#: and the real hosts some builds hard-code for a ChatGPT login, answered inside (harness.fakeapi.realhosts)
CONTAINER_HOSTS = {CONTAINER_HOSTNAME: "127.0.0.1", "auth.openai.com": "127.0.0.1", "chatgpt.com": "127.0.0.1"}

#: Files the host writes into, and reads back from, a container's output directory.
SPEC_FILE = "cells.json"
LOG_FILE = "suite-log.jsonl"
CELLS_DIR = "cells"
FACTS_FILE = "facts.json"
RESOLVER_FILE = "resolver.json"
TRANSCRIPT_FILE = "transcript.jsonl"  # the projected transcript rows
JOURNAL_FILE = "journal.json"  # the fake API's request journal
SUMMARY_FILE = "summary.json"  # the lane's sign-off summary
STDERR_FILE = "stderr.txt"
LANE_RESULT_FILE = "lane-result.json"  # a foreign lane's protocol result as its adapter printed it (redacted)
STDOUT_FILE = "stdout.jsonl"  # codex's own stdout, as the seam read it
ARGV_FILE = "argv.json"  # the command line the lane ran
ENV_FILE = "env.json"  # the cell's environment (redacted)
CONFIG_FILE = "config.toml"  # codex's config.toml as the run had it
#: Every file one (cell, scenario) lane run leaves in its artifacts dir, by the key a repro bundle embeds
#: it under: the one table of artifact names (the suite writes them, repro and the reports read them).
ARTIFACTS: dict[str, str] = {
    "argv": ARGV_FILE, "env": ENV_FILE, "config": CONFIG_FILE, "stdout": STDOUT_FILE, "stderr": STDERR_FILE,
    "journal": JOURNAL_FILE, "transcript": TRANSCRIPT_FILE, "facts": FACTS_FILE, "summary": SUMMARY_FILE,
    "resolver": RESOLVER_FILE, "lane_result": LANE_RESULT_FILE,
}
PYTEST_LOG = "pytest.log"

#: Environment of the suite inside the container.
ENV_SPEC = "CNM_SPEC"
ENV_OUT = "CNM_OUT"
ENV_WORKERS = "CNM_WORKERS"  # compute lane runs at once (unset: sized from the machine, see suite.schedule)
ENV_JOBS = "CNM_JOBS"  # containers running at once on the host, which share its cores
ENV_SLOTS = "CNM_SLOTS"  # the machine's compute slots, shared by every container (see suite.schedule)
ENV_K = "CNM_K"  # pytest -k expression for the contract tests, empty = all


def known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the keys ``cls`` declares: a newer writer may add keys an older reader does not know."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class KnownRegression:
    """A known codex regression on one scenario of a cell (matrix.yaml's ``xfail``).

    ``tests`` names the contract tests it covers (None: every test of the scenario); ``match`` is a
    regular expression the failure message must match to count as this regression (None: any failure).
    ``strict``: a pass fails the cell ("fixed: remove the rule"). ``rate`` is the measured chance that
    one run shows it, required for non-strict (intermittent) rules.
    """

    reason: str
    link: str | None = None
    tests: tuple[str, ...] | None = None
    match: str | None = None
    strict: bool = True
    rate: float | None = None

    def covers(self, test_name: str) -> bool:
        return self.tests is None or test_name in self.tests

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tests"] = list(self.tests) if self.tests is not None else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KnownRegression:
        known = known_fields(cls, data)
        if known.get("tests") is not None:
            known["tests"] = tuple(known["tests"])
        return cls(**known)


@dataclass(frozen=True)
class CellSpec:
    """One matrix cell: a build × a credential setup × a completion policy × a sandbox mode, with its
    scenarios.

    The same type is the host's cell (matrix expansion, results, reports) and the container's: the id
    printed in every report is :attr:`id`, and ``run --cells`` takes it back.
    """

    version: str
    credential: str
    policy: str
    scenarios: tuple[str, ...]
    expect: str = "native"
    expect_reason: str = ""
    known: Mapping[str, KnownRegression] = field(default_factory=dict)  # scenario -> regression
    sandbox: str = DEFAULT_SANDBOX  # codex's sandbox_mode
    #: the lane that consumes the build (``python``, ``codex-sdk@0.163.0:documented``; harness.lanes.catalog)
    lane: str = PYTHON_LANE

    @property
    def id(self) -> str:
        return cell_id(self.version, self.credential, self.policy, self.sandbox, self.lane)

    @property
    def foreign(self) -> bool:
        """True when the suite drives this cell's lane through its adapter (every lane but ours)."""
        return self.lane != PYTHON_LANE

    def narrowed(self, scenarios: Sequence[str]) -> CellSpec:
        """The same cell with only ``scenarios`` (in this cell's order)."""
        keep = tuple(s for s in self.scenarios if s in scenarios)
        return CellSpec(self.version, self.credential, self.policy, keep, self.expect, self.expect_reason,
                        {s: r for s, r in self.known.items() if s in keep}, self.sandbox, self.lane)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "version": self.version, "credential": self.credential, "policy": self.policy,
            "sandbox": self.sandbox, "scenarios": list(self.scenarios), "expect": self.expect,
            "expect_reason": self.expect_reason, "known": {s: r.to_json() for s, r in self.known.items()},
            "lane": self.lane,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CellSpec:
        return cls(
            version=data["version"], credential=data["credential"], policy=data["policy"],
            scenarios=tuple(data["scenarios"]), expect=data.get("expect", "native"),
            expect_reason=data.get("expect_reason", ""),
            known={s: KnownRegression.from_json(r) for s, r in (data.get("known") or {}).items()},
            sandbox=data.get("sandbox", DEFAULT_SANDBOX), lane=data.get("lane") or PYTHON_LANE,
        )

    def to_results_json(self) -> dict[str, Any]:
        """The cell as results.json shows it: the same fields, three under the names its schema promised
        (``expected``, ``expected_reason``, ``xfail``), and no scenarios (its tests name them). A new
        field of the cell goes into both views here, and only here."""
        data = self.to_json()
        del data["scenarios"]
        return {_RESULTS_NAMES.get(key, key): value for key, value in data.items()}

    @classmethod
    def from_results_json(cls, data: Mapping[str, Any], scenarios: tuple[str, ...]) -> CellSpec:
        """The inverse of :meth:`to_results_json`, given the scenarios the cell's tests name."""
        inner = {key: data[name] for key, name in _RESULTS_NAMES.items() if name in data}
        return cls.from_json({**data, **inner, "scenarios": scenarios})


#: The cell fields results.json names its own way (its schema never renames a key).
_RESULTS_NAMES = {"expect": "expected", "expect_reason": "expected_reason", "known": "xfail"}


#: Between a cell's build coordinates and its lane in a cell id (one of the few characters a path part may hold).
LANE_SEPARATOR = "+"


def cell_id(version: str, credential: str, policy: str, sandbox: str = DEFAULT_SANDBOX, lane: str = "python") -> str:
    """``codex<version>-<credential>-<policy>[-<sandbox>][+<lane>]``: the id every report prints and
    ``--cells`` accepts; the sandbox is named only when it is not the default and the lane only when it is
    not ours (``+codex-sdk-0.163.0-provider``), so ids from before either axis still hold."""
    base = f"codex{version}-{credential}-{policy}"
    base = base if sandbox == DEFAULT_SANDBOX else f"{base}-{sandbox}"
    return base if lane == PYTHON_LANE else f"{base}{LANE_SEPARATOR}{parse_lane(lane).slug}"


@dataclass(frozen=True)
class SuiteTimeouts:
    codex_s: float
    hang_s: float


@dataclass(frozen=True)
class SuiteSpec:
    """Everything one container's suite needs: its cells, the per-run timeouts and codex's provider
    settings (retries), which go into every cell's config.toml."""

    cells: tuple[CellSpec, ...]
    timeouts: SuiteTimeouts
    codex: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "cells": [c.to_json() for c in self.cells], "timeouts": asdict(self.timeouts),
                "codex": dict(self.codex)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SuiteSpec:
        return cls(cells=tuple(CellSpec.from_json(c) for c in data["cells"]),
                   timeouts=SuiteTimeouts(**known_fields(SuiteTimeouts, data["timeouts"])),
                   codex={str(k): int(v) for k, v in (data.get("codex") or {}).items()})

    def write(self, directory: Path) -> Path:
        path = directory / SPEC_FILE
        path.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> SuiteSpec:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


#: Outcomes a contract test can have: ``xpass`` is a known regression that did not show; ``n/a`` a test
#: that needs a capability the cell's lane does not have (harness.lanes.catalog.applies): never a pass.
NOT_APPLICABLE = "n/a"
OUTCOMES = ("pass", "fail", "error", "xfail", "xpass", "skip", NOT_APPLICABLE)


@dataclass(frozen=True)
class TestRecord:
    """One contract test's outcome for one (cell, scenario)."""

    __test__ = False  # not a pytest test class, despite the name

    cell: str
    name: str  # "test_x[scenario]"
    scenario: str | None
    outcome: str  # one of OUTCOMES
    message: str = ""
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": "test", **asdict(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestRecord:
        return cls(**known_fields(cls, data))


@dataclass(frozen=True)
class PlanLine:
    """How many tests each cell will report; a cell with fewer records did not finish.

    ``time`` (Unix epoch seconds, optional): when collection ended and the lane runs were submitted,
    so the host can tell suite collection from lane runs (containers share the host's clock).
    """

    planned: Mapping[str, int]
    time: float | None = None

    def to_json(self) -> dict[str, Any]:
        return _timed({"kind": "plan", "planned": dict(self.planned)}, self.time)


@dataclass(frozen=True)
class FinishLine:
    """The suite's session ended on its own (pytest's exit status).

    ``time`` (optional): when; ``cpu_s`` (optional): CPU seconds the suite process and every lane run
    it waited for used, i.e. nearly all of the container's CPU.
    """

    exitstatus: int
    time: float | None = None
    cpu_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = _timed({"kind": "finish", "exitstatus": self.exitstatus}, self.time)
        if self.cpu_s is not None:
            data["cpu_s"] = round(self.cpu_s, 3)
        return data


def _timed(data: dict[str, Any], when: float | None) -> dict[str, Any]:
    if when is not None:
        data["time"] = round(when, 3)
    return data


def _optional_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


LogLine = PlanLine | TestRecord | FinishLine


def log_line(line: LogLine) -> str:
    return json.dumps(line.to_json(), ensure_ascii=False) + "\n"


_TEST_PREFIX = log_line(TestRecord("", "", None, "pass")).encode()[:16]  # b'{"kind": "test",'


def is_test_line(raw: bytes) -> bool:
    """Cheap check for a TestRecord line, for progress counting without parsing every line."""
    return raw.startswith(_TEST_PREFIX)


def read_log(path: Path) -> Iterator[LogLine]:
    """The lines of a suite log; a line cut short by a kill (or any unreadable line) is skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for raw in text.splitlines():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        kind = data.get("kind")
        try:
            if kind == "plan":
                yield PlanLine({str(k): int(v) for k, v in dict(data["planned"]).items()},
                               _optional_float(data.get("time")))
            elif kind == "test":
                yield TestRecord.from_json(data)
            elif kind == "finish":
                yield FinishLine(int(data["exitstatus"]), _optional_float(data.get("time")),
                                 _optional_float(data.get("cpu_s")))
        except (KeyError, TypeError, ValueError):
            continue


def scenario_dir(out: Path, cell: str, scenario: str) -> Path:
    """Where one (cell, scenario)'s artifacts live under a container's output directory."""
    return out / CELLS_DIR / cell / scenario
