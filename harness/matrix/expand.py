"""A validated matrix → its cells, in a stable order, each with its expectation and known regressions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from harness.errors import UserError
from harness.lanes.catalog import ADAPTER_SCENARIOS, KIND_CREDENTIALS, NO_POLICY, PYTHON, parse_lane
from harness.matrix.load import clip
from harness.matrix.schema import MatrixConfig
from harness.npmversion import version_key
from harness.suite.expectations import NATIVE
from harness.suite.protocol import CellSpec, KnownRegression
from harness.suite.sandboxes import DEFAULT_SANDBOX

_AXES = ("version", "credential", "policy")  # an include must name these to add a cell


def expectation(config: MatrixConfig, version: str, credential: str, policy: str,
                sandbox: str = DEFAULT_SANDBOX, lane: str = PYTHON) -> tuple[str, str]:
    """First matching rule wins; a cell no rule matches must hold the full native contract."""
    for rule in config.expectations:
        if rule.when.matches(version, credential, policy, sandbox=sandbox, lane=lane):
            return rule.expect, rule.reason
    if lane != PYTHON:
        return NATIVE, "the lane answers every turn and reports every failure the API returns"
    return NATIVE, "the full codex-native contract holds"


def known_regressions(config: MatrixConfig, version: str, credential: str, policy: str,
                      scenarios: Sequence[str], sandbox: str = DEFAULT_SANDBOX,
                      lane: str = PYTHON) -> dict[str, KnownRegression]:
    """scenario → the first xfail rule matching it (rules are checked in file order)."""
    out: dict[str, KnownRegression] = {}
    for scenario in scenarios:
        for rule in config.xfail:
            if rule.when.matches(version, credential, policy, scenario, sandbox=sandbox, lane=lane):
                out[scenario] = KnownRegression(
                    reason=rule.reason, link=rule.link, tests=tuple(rule.tests) if rule.tests else None,
                    match=rule.match, strict=rule.strict, rate=rule.rate)
                break
    return out


def _combinations(config: MatrixConfig) -> list[dict[str, Any]]:
    """Cartesian product, then exclude, then include — GitHub Actions' order and semantics."""
    combos: list[dict[str, Any]] = [
        {"version": v, "credential": c, "policy": p, "sandbox": s}
        for v, c, p, s in itertools.product(config.versions, config.credentials, config.policies, config.sandboxes)
    ]
    for ex in config.exclude:
        keys = {k: v for k, v in ex.model_dump(exclude_none=True).items() if k != "scenarios"}
        combos = [c for c in combos if not all(c[k] == v for k, v in keys.items())]
    for inc in config.include:
        entry = inc.model_dump(exclude_none=True)
        axes = {k: v for k, v in entry.items() if k in _AXES}
        extras = {k: v for k, v in entry.items() if k not in axes}
        matched = [c for c in combos if all(c.get(k) == v for k, v in axes.items())]
        if matched and extras:
            for c in matched:
                c.update(extras)
        elif not matched:
            missing = [k for k in _AXES if k not in axes]
            if missing:
                raise UserError(
                    f"include entry {clip(entry)} matches no combination and lacks {', '.join(missing)}: "
                    "give version, credential and policy to add a new cell"
                )
            combos.append({"sandbox": DEFAULT_SANDBOX, **entry})
    return combos


def _foreign_cells(config: MatrixConfig, lane_name: str) -> list[CellSpec]:
    """A foreign lane's cells: per build, each credential setup the lane can be given, run under the one
    policy it has (:data:`harness.lanes.catalog.NO_POLICY`), on the scenarios its tests judge.

    ``include``/``exclude`` shape the python lane's grid only; a foreign lane is narrowed by the axes."""
    lane = parse_lane(lane_name)
    takes = KIND_CREDENTIALS[lane.kind]
    credentials = [c for c in config.credentials if takes is None or c in takes]
    scenarios = tuple(s for s in config.scenarios if s in ADAPTER_SCENARIOS)
    if NO_POLICY not in config.policies or not scenarios:
        return []
    cells = []
    for version, credential, sandbox in itertools.product(config.versions, credentials, config.sandboxes):
        expect, reason = expectation(config, version, credential, NO_POLICY, sandbox, lane_name)
        cells.append(CellSpec(
            version=version, credential=credential, policy=NO_POLICY, scenarios=scenarios, expect=expect,
            expect_reason=reason, sandbox=sandbox, lane=lane_name,
            known=known_regressions(config, version, credential, NO_POLICY, scenarios, sandbox, lane_name),
        ))
    return cells


def expand(config: MatrixConfig) -> list[CellSpec]:
    """All cells of the matrix, in a stable order (versions ascending, then matrix.yaml order, the python
    lane's cells before each foreign lane's in ``lanes`` order)."""
    cells = []
    for combo in (_combinations(config) if PYTHON in config.lanes else []):
        version, credential, policy = combo["version"], combo["credential"], combo["policy"]
        sandbox = combo.get("sandbox", DEFAULT_SANDBOX)
        scenarios = tuple(combo.get("scenarios") or config.scenarios)
        expect, reason = expectation(config, version, credential, policy, sandbox)
        cells.append(CellSpec(
            version=version, credential=credential, policy=policy, scenarios=scenarios, expect=expect,
            expect_reason=reason, sandbox=sandbox,
            known=known_regressions(config, version, credential, policy, scenarios, sandbox),
        ))
    for lane in config.lanes:
        if lane != PYTHON:
            cells.extend(_foreign_cells(config, lane))
    lorder = {name: i for i, name in enumerate([PYTHON, *config.lanes])}
    order = {c: i for i, c in enumerate(config.credentials)}
    porder = {p: i for i, p in enumerate(config.policies)}
    sorder = {s: i for i, s in enumerate(config.sandboxes)}
    cells.sort(key=lambda c: (version_key(c.version), lorder.get(c.lane, 99), sorder.get(c.sandbox, 99),
                              order.get(c.credential, 99), porder.get(c.policy, 99)))
    return cells
