"""matrix.yaml → validated model → cells.

The YAML file is the single source of truth for which cells run and what each is expected to do, so
validation errors must point at the offending line and say how to fix it: a matrix nobody can edit
confidently is worse than none.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import UserError

CREDENTIALS: tuple[str, ...] = ("codex-api-key", "openai-api-key", "auth-json", "none", "invalid-key")
POLICIES: tuple[str, ...] = ("ephemeral", "persistent")
SCENARIOS: tuple[str, ...] = ("ok", "tool", "unauthorized", "server-error", "rate-limited", "disconnect", "hang")
EXPECTS: tuple[str, ...] = ("native", "legacy-fallback", "ephemeral-unsupported", "auth-required", "auth-rejected")

Expect = Literal["native", "legacy-fallback", "ephemeral-unsupported", "auth-required", "auth-rejected"]
AXIS_VALUES: dict[str, tuple[str, ...]] = {
    "credentials": CREDENTIALS,
    "policies": POLICIES,
    "scenarios": SCENARIOS,
}


def default_matrix_path() -> Path:
    """matrix.yaml at the project root (next to pyproject.toml)."""
    return Path(__file__).resolve().parent.parent / "matrix.yaml"


def parse_version(text: str) -> str:
    """Normalise an X.Y.Z codex version; reject anything npm would not publish for codex."""
    try:
        v = Version(str(text))
    except InvalidVersion as exc:
        raise ValueError(f"{text!r} is not a version: write it as X.Y.Z, e.g. 0.117.0") from exc
    if v.local or v.epoch or len(v.release) != 3:
        raise ValueError(f"{text!r} is not an X.Y.Z version: write it as X.Y.Z, e.g. 0.117.0")
    return str(v)


def _check_axis_values(axis: str, values: Iterable[str]) -> None:
    allowed = AXIS_VALUES[axis]
    for value in values:
        if value not in allowed:
            raise ValueError(f"unknown {axis} value {value!r}: use one of {', '.join(allowed)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    """Selects cells (and, for xfail, scenarios); an absent key matches everything."""

    versions: str | None = None
    credentials: list[str] | None = None
    policies: list[str] | None = None
    scenarios: list[str] | None = None

    @field_validator("versions")
    @classmethod
    def _valid_range(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            SpecifierSet(value)
        except InvalidSpecifier as exc:
            raise ValueError(
                f"{value!r} is not a PEP 440 version range: write e.g. \"<0.44\" or \">=0.99,<0.150\""
            ) from exc
        return value

    @field_validator("credentials", "policies", "scenarios")
    @classmethod
    def _known_values(cls, value: list[str] | None, info: Any) -> list[str] | None:
        if value is not None:
            _check_axis_values(info.field_name, value)
        return value

    def matches(self, version: str, credential: str, policy: str, scenario: str | None = None) -> bool:
        if self.versions is not None and not SpecifierSet(self.versions).contains(version, prereleases=True):
            return False
        if self.credentials is not None and credential not in self.credentials:
            return False
        if self.policies is not None and policy not in self.policies:
            return False
        return not (scenario is not None and self.scenarios is not None and scenario not in self.scenarios)


class ExpectationRule(_Strict):
    when: When
    expect: Expect
    reason: str


class XFailRule(_Strict):
    """A known regression: the named contract tests (default: all) are expected to fail where it matches."""

    when: When
    reason: str
    link: str | None = None
    tests: list[str] | None = None
    # a race that shows only sometimes: a pass is "did not show this run", not "fixed"
    intermittent: bool = False

    @field_validator("tests")
    @classmethod
    def _test_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            if not name.startswith("test_") or "[" in name:
                raise ValueError(f"{name!r} is not a contract test name: write e.g. test_event_grammar")
        return value


class Combination(_Strict):
    """An include/exclude entry (GitHub-Actions matrix semantics)."""

    version: str | None = None
    credential: str | None = None
    policy: str | None = None
    scenarios: list[str] | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        return None if value is None else parse_version(value)

    @field_validator("credential")
    @classmethod
    def _credential(cls, value: str | None) -> str | None:
        if value is not None:
            _check_axis_values("credentials", [value])
        return value

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        if value is not None:
            _check_axis_values("policies", [value])
        return value

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            _check_axis_values("scenarios", value)
        return value


class Timeouts(_Strict):
    codex_s: float = Field(default=45.0, gt=0)
    hang_s: float = Field(default=6.0, gt=0)
    container_s: float = Field(default=1800.0, gt=0)


class MatrixConfig(_Strict):
    versions: list[str]
    credentials: list[str] = Field(default_factory=lambda: list(CREDENTIALS))
    policies: list[str] = Field(default_factory=lambda: list(POLICIES))
    scenarios: list[str] = Field(default_factory=lambda: list(SCENARIOS))
    exclude: list[Combination] = Field(default_factory=list)
    include: list[Combination] = Field(default_factory=list)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    expectations: list[ExpectationRule] = Field(default_factory=list)
    xfail: list[XFailRule] = Field(default_factory=list)

    @field_validator("versions", mode="before")
    @classmethod
    def _versions(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("versions must be a non-empty list such as [0.117.0, 0.169.0]")
        return [parse_version(str(v)) for v in value]

    @field_validator("credentials", "policies", "scenarios")
    @classmethod
    def _axis(cls, value: list[str], info: Any) -> list[str]:
        if not value:
            raise ValueError(f"{info.field_name} must list at least one value")
        _check_axis_values(info.field_name, value)
        return value

    @model_validator(mode="after")
    def _no_duplicates(self) -> MatrixConfig:
        for axis in ("versions", "credentials", "policies", "scenarios"):
            values = getattr(self, axis)
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"{axis} lists {', '.join(dupes)} more than once: keep one")
        return self


@dataclass(frozen=True)
class Cell:
    """One matrix cell: a build, a credential setup and a completion policy, with its scenarios."""

    version: str
    credential: str
    policy: str
    scenarios: tuple[str, ...]
    expect: str = "native"
    expect_reason: str = ""
    # scenario -> {"reason", "link", "tests" (test names, or None for every test of the scenario)}
    xfail: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"codex{self.version}-{self.credential}-{self.policy}"

    def to_spec(self) -> dict[str, Any]:
        """The JSON handed to the contract suite inside the container."""
        return {
            "id": self.id,
            "version": self.version,
            "credential": self.credential,
            "policy": self.policy,
            "scenarios": list(self.scenarios),
            "expect": self.expect,
            "expect_reason": self.expect_reason,
            "xfail": self.xfail,
        }


def _yaml_line(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Line (1-based) of the YAML node at a pydantic error location, best effort."""
    node = root
    line = None if node is None else node.start_mark.line + 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def load_matrix(path: Path | None = None) -> MatrixConfig:
    """Read and validate matrix.yaml; any problem becomes one UserError naming file, line and fix."""
    path = path or default_matrix_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}; pass --matrix PATH to a matrix.yaml") from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise UserError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}): fix the syntax") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with at least `versions:`; see the README")
    try:
        return MatrixConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        line = _yaml_line(root, loc)
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}: remove it or check the spelling against the README"
        where = f"{path}:{line}" if line else str(path)
        raise UserError(f"{where}: {dotted}: {msg}") from exc


def _expectation(config: MatrixConfig, version: str, credential: str, policy: str) -> tuple[str, str]:
    for rule in config.expectations:
        if rule.when.matches(version, credential, policy):
            return rule.expect, rule.reason
    return "native", "the full codex-native contract holds"


def _xfails(config: MatrixConfig, version: str, credential: str, policy: str, scenarios: Sequence[str]
            ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        for rule in config.xfail:
            if rule.when.matches(version, credential, policy, scenario):
                out[scenario] = {"reason": rule.reason, "link": rule.link, "tests": rule.tests,
                                 "intermittent": rule.intermittent}
                break
    return out


def _combinations(config: MatrixConfig) -> list[dict[str, Any]]:
    """Cartesian product, then exclude, then include — GitHub Actions' order and semantics."""
    combos: list[dict[str, Any]] = [
        {"version": v, "credential": c, "policy": p}
        for v, c, p in itertools.product(config.versions, config.credentials, config.policies)
    ]
    for ex in config.exclude:
        keys = {k: v for k, v in ex.model_dump(exclude_none=True).items() if k != "scenarios"}
        combos = [c for c in combos if not all(c[k] == v for k, v in keys.items())]
    for inc in config.include:
        entry = inc.model_dump(exclude_none=True)
        axes = {k: v for k, v in entry.items() if k in ("version", "credential", "policy")}
        extras = {k: v for k, v in entry.items() if k not in axes}
        matched = [c for c in combos if all(c.get(k) == v for k, v in axes.items())]
        if matched and extras:
            for c in matched:
                c.update(extras)
        elif not matched:
            missing = [k for k in ("version", "credential", "policy") if k not in axes]
            if missing:
                raise UserError(
                    f"include entry {entry} matches no combination and lacks {', '.join(missing)}: "
                    "give version, credential and policy to add a new cell"
                )
            combos.append(dict(entry))
    return combos


def expand(config: MatrixConfig) -> list[Cell]:
    """All cells of the matrix, in a stable order (versions ascending, then matrix.yaml order)."""
    cells = []
    for combo in _combinations(config):
        version, credential, policy = combo["version"], combo["credential"], combo["policy"]
        scenarios = tuple(combo.get("scenarios") or config.scenarios)
        expect, reason = _expectation(config, version, credential, policy)
        cells.append(
            Cell(
                version=version,
                credential=credential,
                policy=policy,
                scenarios=scenarios,
                expect=expect,
                expect_reason=reason,
                xfail=_xfails(config, version, credential, policy, scenarios),
            )
        )
    order = {c: i for i, c in enumerate(config.credentials)}
    porder = {p: i for i, p in enumerate(config.policies)}
    cells.sort(key=lambda c: (Version(c.version), order.get(c.credential, 99), porder.get(c.policy, 99)))
    return cells


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


@dataclass(frozen=True)
class Selection:
    """Command-line narrowing of the matrix (comma-separated values, None = everything)."""

    versions: str | None = None
    credentials: str | None = None
    policies: str | None = None
    scenarios: str | None = None


def select(config: MatrixConfig, selection: Selection) -> list[Cell]:
    """Cells narrowed by the command line; a version not in matrix.yaml is added on the fly.

    Unlisted versions are allowed because reproducing a regression in one specific build is a core use;
    unknown credential/policy/scenario names are errors because they can only be typos.
    """
    versions = _split(selection.versions)
    credentials = _split(selection.credentials)
    policies = _split(selection.policies)
    scenarios = _split(selection.scenarios)
    for flag, axis, values in (
        ("--credentials", "credentials", credentials),
        ("--policies", "policies", policies),
        ("--scenarios", "scenarios", scenarios),
    ):
        for value in values or ():
            if value not in AXIS_VALUES[axis]:
                raise UserError(f"{flag}: unknown value {value!r}: use one of {', '.join(AXIS_VALUES[axis])}")
    if versions is not None:
        try:
            versions = [parse_version(v.removeprefix("codex")) for v in versions]
        except ValueError as exc:
            raise UserError(f"--versions: {exc}") from exc
        extra = [v for v in versions if v not in config.versions]
        if extra:
            config = config.model_copy(update={"versions": [*config.versions, *extra]})
    if credentials is not None:
        config = config.model_copy(update={"credentials": credentials})
    if policies is not None:
        config = config.model_copy(update={"policies": policies})
    cells = expand(config)
    if versions is not None:
        cells = [c for c in cells if c.version in versions]
    if scenarios is not None:
        cells = [
            Cell(c.version, c.credential, c.policy, tuple(s for s in c.scenarios if s in scenarios),
                 c.expect, c.expect_reason, {k: v for k, v in c.xfail.items() if k in scenarios})
            for c in cells
        ]
        cells = [c for c in cells if c.scenarios]
    if not cells:
        raise UserError("the selection matches no cell: widen --versions/--credentials/--policies/--scenarios")
    return cells


def versions_of(cells: Sequence[Cell]) -> list[str]:
    """Distinct versions in cell order."""
    return list(dict.fromkeys(c.version for c in cells))
