"""The one reader of ``results.json``: a run's, a CI shard's or a tox env's, whoever wrote it.

Every cell is checked against the registries before anything uses it: its id must be the id its
version, credential, policy and sandbox make (so an id can never smuggle a path), its scenarios are
known scenario names, its numbers finite, ``started`` timezone-aware. The file's ``artifacts`` field
is never used as a path: a cell's raw files are looked up by the code, beside this results.json
(``raw/<job>/cells/<cell id>/``), and only there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, create_model, field_validator, model_validator

from harness.errors import UserError
from harness.fingerprint import FIELDS, UNIONS
from harness.fingerprint import Field as FingerprintField
from harness.incoming.fields import (
    NAME_CHARS,
    Count,
    Credential,
    Expect,
    Flag,
    LaneName,
    Name,
    Outcome,
    PolicyName,
    Sandbox,
    Scenario,
    Seconds,
    Status,
    Strict,
    Text,
    Timestamp,
    Tree,
    Unfinished,
    Version,
    json_tree,
    load_json,
    shown,
    validate,
)
from harness.results import SCHEMA, CellResult, RunResults
from harness.safepath import is_safe_name, join_under
from harness.suite.protocol import CELLS_DIR, DEFAULT_SANDBOX, cell_id

RAW = "raw"
FIX = "pass a results.json written by `codex-matrix run`"
MAX_CELLS = 100_000
MAX_TESTS = 10_000
MAX_MATCH_CHARS = 2_000
#: The resolver decision's fields the reports read (harness/report/markdown.py and html.py).
RESOLVER_KEYS = ("requested", "resolved", "state", "reason", "fallback_from", "policy")
NATIVE_KEYS = ("state", "reason", "credential_source", "credential_origin", "protocol")


class KnownModel(Strict):
    reason: Text
    link: Text | None = None
    tests: list[Name] | None = Field(default=None, max_length=MAX_TESTS)
    match: str | None = Field(default=None, max_length=MAX_MATCH_CHARS)
    strict: Flag = True
    rate: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False)

    @field_validator("match")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except (re.error, RecursionError, OverflowError):
                raise ValueError("is not a regular expression") from None
        return value


class TestModel(Strict):
    __test__ = False  # not a pytest test class

    cell: Name
    name: Name
    scenario: Scenario | None = None
    outcome: Outcome
    message: Text = ""
    duration_s: Seconds = 0.0


class _Fingerprint(Strict):
    """A fingerprint grows a key whenever a new fact is observed, so keys this code does not know are kept
    (checked as plain, bounded JSON); the keys it reads are typed."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="after")
    def _extras_are_plain_json(self) -> _Fingerprint:
        for key, value in (self.__pydantic_extra__ or {}).items():
            if len(key) > NAME_CHARS:
                raise ValueError("has a key longer than a name")
            json_tree(value)
        return self


#: The type each kind of fingerprint fact (harness.fingerprint.Kind) is read as, and its default.
_KIND_TYPES: dict[str, tuple[Any, Any]] = {
    "name": (Name | None, None),
    "names": (list[Name], Field(default_factory=list, max_length=MAX_TESTS)),
    "texts": (list[Text], Field(default_factory=list, max_length=MAX_TESTS)),
    "counts": (dict[Name, Count], Field(default_factory=dict, max_length=MAX_TESTS)),
    "labels": (dict[Name, Name], Field(default_factory=dict, max_length=MAX_TESTS)),
    "seconds": (Seconds | None, None),
    "seconds_by": (dict[Name, Seconds], Field(default_factory=dict, max_length=MAX_TESTS)),
    "names_by": (dict[Name, list[Name]], Field(default_factory=dict, max_length=MAX_TESTS)),
}


def _typed(name: str, fields: Iterable[FingerprintField], base: type[_Fingerprint]) -> Any:
    """A fingerprint model whose typed keys are those of ``fields`` (the field table), each read as its kind."""
    typed: dict[str, Any] = {f.key: _KIND_TYPES[f.kind] for f in fields}
    return create_model(name, __base__=base, __doc__=base.__doc__, **typed)


class _CellFacts(_Fingerprint):
    """What :func:`harness.fingerprint.cell_fingerprint` writes; merge builds build fingerprints from it.
    The facts the field table unions per cell are typed from it (see ``CellFingerprintModel``)."""

    version_line: Name | None = None
    protocol: Name | None = None
    flags: list[Name] = Field(default_factory=list, max_length=MAX_TESTS)
    usage_keys: list[Name] = Field(default_factory=list, max_length=MAX_TESTS)
    session_files: dict[Name, Count] = Field(default_factory=dict, max_length=MAX_TESTS)
    credential_setup: Name | None = None
    api_saw: list[Name] = Field(default_factory=list, max_length=MAX_TESTS)
    raw_api_saw: list[Name] | None = Field(default=None, max_length=MAX_TESTS)
    ok_turn_s: Seconds | None = None
    model_catalog: list[Name] = Field(default_factory=list, max_length=MAX_TESTS)
    calls: list[Name] = Field(default_factory=list, max_length=MAX_TESTS)
    command_completion: dict[Name, Name] = Field(default_factory=dict, max_length=MAX_TESTS)
    tool_turnaround_s: dict[Name, Seconds] = Field(default_factory=dict, max_length=MAX_TESTS)


class _BuildFacts(_Fingerprint):
    """What :func:`harness.fingerprint.build_fingerprints` writes (results.json ``builds``, atlas records):
    every key of the field table, typed by its kind."""


if TYPE_CHECKING:  # the checker sees plain fingerprint models; at runtime they are typed from the table
    class CellFingerprintModel(_CellFacts): ...
    class BuildFingerprintModel(_BuildFacts): ...
else:
    CellFingerprintModel = _typed("CellFingerprintModel", UNIONS, _CellFacts)
    BuildFingerprintModel = _typed("BuildFingerprintModel", FIELDS, _BuildFacts)


class CellModel(Strict):
    id: Name
    version: Version
    credential: Credential
    policy: PolicyName
    sandbox: Sandbox = DEFAULT_SANDBOX
    status: Status
    expected: Expect = "native"
    expected_reason: Text = ""
    duration_s: Seconds = 0.0
    tests: list[TestModel] = Field(default_factory=list, max_length=MAX_TESTS)
    fingerprint: CellFingerprintModel = Field(default_factory=CellFingerprintModel)
    resolver: dict[Name, Tree] | None = None  # resolver.json, free-form, but its reports' keys are typed
    xfail: dict[Scenario, KnownModel] = Field(default_factory=dict)
    artifacts: Text | None = None  # where the writer had them: a hint to the job dir, never a path
    message: Text = ""
    unfinished: Unfinished | None = None
    planned: Count | None = None
    lane_s: dict[Scenario, Seconds] = Field(default_factory=dict)
    lane: LaneName = "python"

    @field_validator("resolver")
    @classmethod
    def _resolver_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """What the reports read of a decision: ``native`` an object, the named fields strings."""
        if value is None:
            return None
        native = value.get("native", {})
        if not isinstance(native, dict):
            raise ValueError("native must be an object")
        for where, data, keys in (("", value, RESOLVER_KEYS), ("native.", native, NATIVE_KEYS)):
            for key in keys:
                if data.get(key) is not None and not isinstance(data[key], str):
                    raise ValueError(f"{where}{key} must be a string")
        return value

    @model_validator(mode="after")
    def _id_is_its_coordinates(self) -> CellModel:
        made = cell_id(self.version, self.credential, self.policy, self.sandbox, self.lane)
        if self.id != made:
            raise ValueError(f"id does not match the cell's version, credential, policy and sandbox ({made})")
        return self

    def fingerprint_json(self) -> dict[str, Any]:
        """The fingerprint as written; one that says anything has the schema's first three keys, which
        :func:`harness.fingerprint.build_fingerprints` reads without a default."""
        data = self.fingerprint.model_dump(exclude_unset=True)
        if not data:
            return {}
        fp = self.fingerprint
        return {"version_line": fp.version_line, "protocol": fp.protocol, "flags": list(fp.flags), **data}

    def to_result(self, artifacts: Path | None) -> CellResult:
        data = self.model_dump()
        data["fingerprint"] = self.fingerprint_json()
        data["artifacts"] = str(artifacts) if artifacts is not None else None
        return CellResult.from_json(data)


class RunModel(Strict):
    schema_: Literal[1] = Field(alias="schema")
    started: Timestamp
    duration_s: Seconds = 0.0
    cells: list[CellModel] = Field(max_length=MAX_CELLS)
    builds: dict[Version, BuildFingerprintModel] = Field(default_factory=dict)
    interrupted: Flag = False
    run_id: Name = ""
    timings: dict[Name, Tree] = Field(default_factory=dict)


def results_model(data: Any, path: Path) -> RunModel:
    """``data`` (a results.json's JSON) as the model; a one-line UserError naming the field otherwise."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("cells"), list):
        raise UserError(f"{shown(path)} is not a results.json of schema {SCHEMA}: {FIX}")
    return validate(RunModel, data, path, FIX)


def read_results(path: Path) -> RunResults:
    """``path`` read, checked and turned into RunResults; raw files taken only from beside it."""
    model = results_model(load_json(path, what="the results.json of a `codex-matrix run`", fix=FIX), path)
    finder = RawFinder(path.parent)
    cells = [c.to_result(finder.find(c.id, c.artifacts)) for c in model.cells]
    return RunResults(started=model.started, duration_s=model.duration_s, cells=cells,
                      builds={v: b.model_dump(exclude_unset=True) for v, b in model.builds.items()},
                      interrupted=model.interrupted, run_id=model.run_id, timings=dict(model.timings))


class RawFinder:
    """A cell's artifact dir below one results.json's ``raw/`` (``raw/<job>/cells/<cell id>``), or None.

    The job dir's name is taken from the written path when it has that shape, else looked for; every
    part is a plain name and the result must stay inside the results.json's dir, symlinks resolved.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        raw = root / RAW
        try:
            jobs = sorted(os.listdir(raw)) if raw.is_dir() and not raw.is_symlink() else []
        except OSError:
            jobs = []
        self.jobs = [j for j in jobs if is_safe_name(j)]

    def find(self, cell: str, hint: str | None) -> Path | None:
        parts = PurePath(hint).parts if hint else ()
        hinted = [parts[-3]] if len(parts) >= 3 and parts[-2:] == (CELLS_DIR, cell) else []
        for job in hinted + self.jobs:
            path = join_under(self.root, RAW, job, CELLS_DIR, cell)
            if path is not None and path.is_dir() and not path.is_symlink():
                return path
        return None
