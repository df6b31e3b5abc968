"""The one reader of repro bundles (``CELL.repro.json``), which strangers attach to bug reports.

A bundle says which build ran (version, npm version, tarball integrity, binary sha256) and which cell
ran on it; ``repro --bundle`` verifies the first and runs the second, so the two are bound here, before
anything is fetched: the build's version must be the cell's, the recorded outcome must be that cell's
(same id, its tests on the cell's scenarios), and every scenario is a registered scenario name, never a
path. Timeouts are matrix.yaml's model, so a bundle cannot ask for what a matrix may not.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.buildid import is_local
from harness.errors import UserError
from harness.incoming.fields import (
    Credential,
    Expect,
    LaneName,
    Name,
    PolicyName,
    Sandbox,
    Scenario,
    Strict,
    Text,
    TimestampText,
    Tree,
    Version,
    load_json,
    shown,
    validate,
)
from harness.incoming.results import CellModel, KnownModel
from harness.matrix.schema import Timeouts
from harness.repro import KIND, SCHEMA, BuildIdentity, Bundle
from harness.suite.protocol import DEFAULT_SANDBOX, CellSpec, cell_id

FIX = "pass a bundle written by `codex-matrix repro CELL`"
# checked with fullmatch: pydantic's Field(pattern=…) searches, so it would accept a hash inside anything
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SRI = re.compile(r"sha(256|384|512)-[A-Za-z0-9+/]{40,128}={0,2}")


class CellSpecModel(Strict):
    id: Name
    version: Version
    credential: Credential
    policy: PolicyName
    sandbox: Sandbox = DEFAULT_SANDBOX
    scenarios: list[Scenario] = Field(min_length=1, max_length=100)
    expect: Expect = "native"
    expect_reason: Text = ""
    known: dict[Scenario, KnownModel] = Field(default_factory=dict)
    lane: LaneName = "python"

    @field_validator("scenarios")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("names a scenario twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CellSpecModel:
        made = cell_id(self.version, self.credential, self.policy, self.sandbox, self.lane)
        if self.id != made:
            raise ValueError(f"id does not match the cell's version, credential, policy and sandbox ({made})")
        if not set(self.known) <= set(self.scenarios):
            raise ValueError("known regressions name a scenario the cell does not run")
        return self


class BuildModel(Strict):
    """:class:`harness.repro.BuildIdentity`. A release carries the registry's integrity and its npm version;
    a local build (issue 26, ``X.Y.Z-local.<tree hash>``) has neither, and is found in the build cache."""

    version: Version
    npm_version: Name
    tarball: Text = Field(max_length=2000)
    integrity: Name
    binary_sha256: Name
    tree_sha256: Name
    version_line: Name

    @field_validator("binary_sha256", "tree_sha256")
    @classmethod
    def _sha256(cls, value: str) -> str:
        if _SHA256.fullmatch(value) is None:
            raise ValueError("is not a sha256 (64 lowercase hex digits)")
        return value

    @model_validator(mode="after")
    def _a_release_names_itself(self) -> BuildModel:
        if is_local(self.version):
            if self.integrity and _SRI.fullmatch(self.integrity) is None:
                raise ValueError("integrity is not an SRI string such as sha512-…")
            return self
        if self.npm_version not in (self.version, f"{self.version}-linux-x64"):
            raise ValueError(f"npm_version must be {self.version} or {self.version}-linux-x64")
        if _SRI.fullmatch(self.integrity) is None:
            raise ValueError("integrity is not the registry's SRI string (sha512-…)")
        return self


class BundleModel(Strict):
    kind: Literal["codex-matrix-repro"]
    schema_: Literal[1] = Field(alias="schema")
    created: TimestampText = ""
    cell: CellSpecModel
    k_expr: Name | None = None
    timeouts: Timeouts
    build: BuildModel
    image: dict[Name, Name] = Field(default_factory=dict, max_length=20)
    harness: dict[Name, Name] = Field(default_factory=dict, max_length=20)
    host: dict[Name, Text] = Field(default_factory=dict, max_length=20)
    argv: list[Text] = Field(default_factory=list, max_length=1000)
    outcome: CellModel
    suite_output: Text = ""
    scenarios: dict[Scenario, dict[Name, Tree]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _what_is_verified_is_what_runs(self) -> BundleModel:
        cell = self.cell
        if self.build.version != cell.version:
            raise ValueError(f"build.version {self.build.version} is not the cell's version {cell.version}: the "
                             "build that is verified must be the one that runs")
        if self.outcome.id != cell.id:
            raise ValueError(f"outcome.id {self.outcome.id} is not the cell's id {cell.id}")
        stray = {t.scenario for t in self.outcome.tests if t.scenario is not None} - set(cell.scenarios)
        stray |= set(self.scenarios) - set(cell.scenarios)
        if stray:
            raise ValueError(f"names scenario {sorted(stray)[0]}, which the cell does not run")
        return self


def read_bundle(path: Path) -> Bundle:
    """``path`` read and checked, as a Bundle; anything else is one line naming the file and the field."""
    data: Any = load_json(path, what="a bundle written by `codex-matrix repro CELL`", fix=FIX)
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UserError(f"{shown(path)} is not a repro bundle: {FIX}")
    if data.get("schema") != SCHEMA:
        harness = data.get("harness")
        version = harness.get("version") if isinstance(harness, dict) else None
        written = str(version)[:20] if isinstance(version, str) else "?"
        raise UserError(f"{shown(path)} is a repro bundle of schema {str(data.get('schema'))[:10]}, this "
                        f"codex-matrix reads schema {SCHEMA}: replay it with the codex-matrix version that wrote "
                        f"it ({written})")
    model = validate(BundleModel, data, path, FIX)
    outcome = model.outcome.model_dump()
    outcome["fingerprint"] = model.outcome.fingerprint_json()
    outcome["artifacts"] = None
    return Bundle(
        cell=CellSpec.from_json(model.cell.model_dump()),
        build=BuildIdentity(**model.build.model_dump()),
        image=dict(model.image), timeouts=model.timeouts.model_dump(), outcome=outcome,
        scenarios={s: dict(v) for s, v in model.scenarios.items()}, k_expr=model.k_expr, argv=list(model.argv),
        suite_output=model.suite_output, harness=dict(model.harness), host=dict(model.host), created=model.created,
    )
