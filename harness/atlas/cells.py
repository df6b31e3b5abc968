"""The atlas's cell sets: ``default`` for the whole contract (the default), ``compact`` (below) for a quick pass.

``default`` is matrix.yaml's own cell set for the release (every credential setup, policy, sandbox and
scenario, include/exclude applied), expanded exactly as ``codex-matrix run --versions V`` expands it, so
the atlas checks what a user of that release would run. ``compact`` is enough to fingerprint a release
and check the lane contract on it:

Four credential setups (the env keys, codex's own auth.json, none) × both completion policies, each
running five scenarios: ``ok`` (the turn; with the raw credential probe), ``tool`` and ``tool-race``
(which tool the build declares, the command round trip, the 0.117–0.145 race), ``unknown-model`` (a
slug the catalog lacks) and ``unauthorized`` (a 401). Expectations and known regressions come from
the matrix configuration's own rules (``harness.matrix.expand``), so a legacy build is expected to fall
back and a build without ``--ephemeral`` to refuse, exactly as in ``codex-matrix run``.
"""

from __future__ import annotations

from harness.matrix.expand import expand, expectation, known_regressions
from harness.matrix.schema import MatrixConfig
from harness.suite.policies import POLICIES as POLICY_REGISTRY
from harness.suite.protocol import CellSpec

CREDENTIALS: tuple[str, ...] = ("codex-api-key", "openai-api-key", "auth-json", "none")
POLICIES: tuple[str, ...] = tuple(POLICY_REGISTRY)  # every policy
SCENARIOS: tuple[str, ...] = ("ok", "tool", "tool-race", "unknown-model", "unauthorized")


#: The cell sets ``atlas --cells`` takes; the first is the default: the whole contract on every release
#: fits the 2-core machine's 40 minutes since the lane runs' work root is a tmpfs (see README, Release atlas).
CELL_SETS: tuple[str, ...] = ("default", "compact")


def atlas_cells(config: MatrixConfig, version: str, cell_set: str = CELL_SETS[0]) -> list[CellSpec]:
    """The cells one release runs, in a stable order, each with the matrix's expectation for it."""
    if cell_set == "default":
        return expand(config.model_copy(update={"versions": [version]}))
    if cell_set != "compact":
        raise ValueError(f"unknown cell set {cell_set!r}: use one of {', '.join(CELL_SETS)}")
    cells = []
    for credential in CREDENTIALS:
        for policy in POLICIES:
            expect, reason = expectation(config, version, credential, policy)
            cells.append(CellSpec(
                version=version, credential=credential, policy=policy, scenarios=SCENARIOS, expect=expect,
                expect_reason=reason, known=known_regressions(config, version, credential, policy, SCENARIOS),
            ))
    return cells


def cell_key(credential: str, policy: str) -> str:
    """How the atlas names a cell within a release: ``codex-api-key/ephemeral``."""
    return f"{credential}/{policy}"
