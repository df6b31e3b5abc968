"""The matrix.yaml schema: pydantic models whose validators name the problem and the fix.

The axis vocabularies come from their owners (credential setups: :mod:`harness.suite.credentials`,
scenarios: :mod:`harness.fakeapi.scenarios`, policies: :mod:`harness.suite.policies`, sandbox modes:
:mod:`harness.suite.sandboxes`, expectation kinds: :mod:`harness.suite.expectations`); this module
only checks values against them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.buildid import is_local
from harness.fakeapi.scenarios import SCENARIOS as SCENARIO_REGISTRY
from harness.lanes.catalog import KIND_CAPABILITIES, KIND_MODES, LaneNameError, expand_lanes, parse_lane
from harness.npmversion import parse_version, version_key
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.expectations import EXPECTATIONS
from harness.suite.policies import POLICIES as POLICY_REGISTRY
from harness.suite.sandboxes import DEFAULT_SANDBOX, SANDBOX_MODES

CREDENTIALS: tuple[str, ...] = tuple(CREDENTIAL_SETUPS)
POLICIES: tuple[str, ...] = tuple(POLICY_REGISTRY)
SANDBOXES: tuple[str, ...] = tuple(SANDBOX_MODES)
SCENARIOS: tuple[str, ...] = tuple(SCENARIO_REGISTRY)
EXPECTS: tuple[str, ...] = tuple(EXPECTATIONS)


def _q(value: object, limit: int = 40) -> str:
    """``repr`` of a value quoted in a message, cut short: a hostile file must not make a line long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 2] + "…'"
AXIS_VALUES: dict[str, tuple[str, ...]] = {
    "credentials": CREDENTIALS,
    "policies": POLICIES,
    "sandboxes": SANDBOXES,
    "scenarios": SCENARIOS,
}


def check_axis_values(axis: str, values: Iterable[str]) -> None:
    allowed = AXIS_VALUES[axis]
    for value in values:
        if value not in allowed:
            raise ValueError(f"unknown {axis} value {_q(value)}: use one of {', '.join(allowed)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    """Selects cells (and, for xfail, scenarios); an absent key matches everything."""

    versions: str | None = None
    credentials: list[str] | None = None
    policies: list[str] | None = None
    sandboxes: list[str] | None = None
    scenarios: list[str] | None = None
    #: true: only builds from elsewhere (``--versions ./codex``); false: only published releases
    local: bool | None = None
    #: lane kinds (``python``, ``codex-sdk``). Absent: the python lane only, so every rule written before
    #: the lane axis keeps meaning what it meant, and never lands on a foreign lane by accident.
    lanes: list[str] | None = None
    #: a PEP 440 range of the lane's version (``"<0.116"``); matches only lanes that have a version
    lane_versions: str | None = None
    #: the lane's modes (``documented``, ``provider``)
    modes: list[str] | None = None

    @field_validator("lanes")
    @classmethod
    def _lane_kinds(cls, value: list[str] | None) -> list[str] | None:
        for kind in value or ():
            if kind not in KIND_CAPABILITIES:
                raise ValueError(f"unknown lane {_q(kind)}: use one of {', '.join(KIND_CAPABILITIES)} "
                                 "(a lane kind; its version goes in lane_versions)")
        return value

    @field_validator("modes")
    @classmethod
    def _lane_modes(cls, value: list[str] | None) -> list[str] | None:
        known = sorted({m for modes in KIND_MODES.values() for m in modes})
        for mode in value or ():
            if mode not in known:
                raise ValueError(f"unknown lane mode {_q(mode)}: use one of {', '.join(known)}")
        return value

    @field_validator("versions", "lane_versions")
    @classmethod
    def _valid_range(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            SpecifierSet(value)
        except InvalidSpecifier as exc:
            raise ValueError(
                f"{_q(value)} is not a PEP 440 version range: write e.g. \"<0.44\" or \">=0.99,<0.150\""
            ) from exc
        return value

    @field_validator("credentials", "policies", "sandboxes", "scenarios")
    @classmethod
    def _known_values(cls, value: list[str] | None, info: Any) -> list[str] | None:
        if value is not None:
            check_axis_values(info.field_name, value)
        return value

    def matches(self, version: str, credential: str, policy: str, scenario: str | None = None,
                sandbox: str = DEFAULT_SANDBOX, lane: str = "python") -> bool:
        if not self._matches_lane(lane):
            return False
        if self.local is not None and is_local(version) != self.local:
            return False
        if self.versions is not None and not SpecifierSet(self.versions).contains(version_key(version),
                                                                                  prereleases=True):
            return False
        if self.credentials is not None and credential not in self.credentials:
            return False
        if self.policies is not None and policy not in self.policies:
            return False
        if self.sandboxes is not None and sandbox not in self.sandboxes:
            return False
        return not (scenario is not None and self.scenarios is not None and scenario not in self.scenarios)

    def _matches_lane(self, name: str) -> bool:
        lane = parse_lane(name)
        if lane.kind not in (self.lanes or ["python"]):
            return False
        if self.modes is not None and lane.mode not in self.modes:
            return False
        if self.lane_versions is None:
            return True
        return lane.version is not None and SpecifierSet(self.lane_versions).contains(version_key(lane.version),
                                                                                       prereleases=True)


class ExpectationRule(_Strict):
    when: When
    expect: str
    reason: str

    @field_validator("expect")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in EXPECTATIONS:
            raise ValueError(f"unknown expectation {_q(value)}: use one of {', '.join(EXPECTATIONS)}")
        return value


class XFailRule(_Strict):
    """A known codex regression: the named contract tests fail where it matches, with a matching message.

    Strict by default: a covered test that passes fails the cell ("fixed: remove the rule"). A race that
    shows only sometimes is ``strict: false`` and must state its measured per-run ``rate``.
    """

    when: When
    reason: str
    link: str | None = None
    tests: list[str] | None = None
    match: str | None = None
    strict: bool = True
    rate: float | None = Field(default=None, gt=0, le=1)

    @field_validator("tests")
    @classmethod
    def _test_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            if not name.startswith("test_") or "[" in name:
                raise ValueError(f"{_q(name)} is not a contract test name: write e.g. test_event_grammar")
        return value

    @field_validator("match")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:

        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"match {_q(value)} is not a regular expression ({_q(str(exc), 60)}): "
                                 "fix or quote it") from None
        return value

    @model_validator(mode="after")
    def _rate_when_not_strict(self) -> XFailRule:
        if not self.strict and self.rate is None:
            raise ValueError("a rule with strict: false needs the measured per-run rate: add e.g. rate: 0.5")
        return self


class Combination(_Strict):
    """An include/exclude entry (GitHub-Actions matrix semantics)."""

    version: str | None = None
    credential: str | None = None
    policy: str | None = None
    sandbox: str | None = None
    scenarios: list[str] | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        return None if value is None else parse_version(value)

    @field_validator("credential")
    @classmethod
    def _credential(cls, value: str | None) -> str | None:
        if value is not None:
            check_axis_values("credentials", [value])
        return value

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        if value is not None:
            check_axis_values("policies", [value])
        return value

    @field_validator("sandbox")
    @classmethod
    def _sandbox(cls, value: str | None) -> str | None:
        if value is not None:
            check_axis_values("sandboxes", [value])
        return value

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            check_axis_values("scenarios", value)
        return value


#: Timeouts are seconds; a day is far past anything a cell or a container needs.
MAX_TIMEOUT_S = 86400.0


class Timeouts(_Strict):
    codex_s: float = Field(default=45.0, gt=0, le=MAX_TIMEOUT_S)
    hang_s: float = Field(default=6.0, gt=0, le=MAX_TIMEOUT_S)
    container_s: float = Field(default=1800.0, gt=0, le=MAX_TIMEOUT_S)

    @field_validator("codex_s", "hang_s", "container_s", mode="before")
    @classmethod
    def _seconds(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{info.field_name} must be a finite number of seconds, e.g. 45")
        return value


class CodexSettings(_Strict):
    """codex's own provider settings for every cell (retries as users have them; see matrix.yaml)."""

    request_max_retries: int = Field(default=1, ge=0, le=100)
    stream_max_retries: int = Field(default=1, ge=0, le=100)
    stream_idle_timeout_ms: int = Field(default=1000, ge=100, le=600_000)


def _lane_names(value: Any) -> list[str]:
    """matrix.yaml's ``lanes`` → full lane names (an SDK named without a mode stands for all its modes)."""
    if not isinstance(value, list) or not value:
        raise ValueError("lanes must be a non-empty list such as [python] or [python, codex-sdk@0.163.0]")
    names: list[str] = []
    for item in value:
        try:
            names.extend(lane.full for lane in expand_lanes(str(item)))
        except LaneNameError as exc:
            raise ValueError(str(exc)) from None
    return list(dict.fromkeys(names))


class MatrixConfig(_Strict):
    versions: list[str]
    #: who consumes each build: ``python`` (ours, the reference) and foreign lanes such as ``codex-sdk@0.163.0``
    lanes: list[str] = Field(default_factory=lambda: ["python"])
    credentials: list[str] = Field(default_factory=lambda: list(CREDENTIALS))
    policies: list[str] = Field(default_factory=lambda: list(POLICIES))
    sandboxes: list[str] = Field(default_factory=lambda: [DEFAULT_SANDBOX])
    scenarios: list[str] = Field(default_factory=lambda: list(SCENARIOS))
    exclude: list[Combination] = Field(default_factory=list)
    include: list[Combination] = Field(default_factory=list)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    codex: CodexSettings = Field(default_factory=CodexSettings)
    expectations: list[ExpectationRule] = Field(default_factory=list)
    xfail: list[XFailRule] = Field(default_factory=list)

    @field_validator("versions", mode="before")
    @classmethod
    def _versions(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("versions must be a non-empty list such as [0.117.0, 0.169.0]")
        return [parse_version(str(v)) for v in value]

    @field_validator("lanes", mode="before")
    @classmethod
    def _lanes(cls, value: Any) -> list[str]:
        return _lane_names(value)

    @field_validator("credentials", "policies", "sandboxes", "scenarios")
    @classmethod
    def _axis(cls, value: list[str], info: Any) -> list[str]:
        if not value:
            raise ValueError(f"{info.field_name} must list at least one value")
        check_axis_values(info.field_name, value)
        return value

    @model_validator(mode="after")
    def _no_duplicates(self) -> MatrixConfig:
        for axis in ("versions", "credentials", "policies", "sandboxes", "scenarios"):
            values = getattr(self, axis)
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"{axis} lists {', '.join(dupes)} more than once: keep one")
        return self
