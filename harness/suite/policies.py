"""The completion policies of the matrix: the registry that owns their names and what the host shows.

A policy is how a run ends for the lane: ``ephemeral`` (codex ``--ephemeral``, no session kept, history
``live-only``) or ``persistent`` (codex keeps its rollout, which the lane reads back). The lane owns the
behaviour (``harness.lane.events.Policy`` and the seam); this registry owns what the host derives from
the names (matrix validation, command-line help, the grid's column headers, the atlas's cell set), so a
new policy is one entry here beside the lane's own support, like a credential setup.

Standard library only: the contract suite reads it inside the containers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompletionPolicy:
    """``short``: the grid's column header; ``ephemeral``: the run passes codex ``--ephemeral`` and may
    claim only live history; ``summary``: what the policy means, for help texts and the README."""

    name: str
    short: str
    ephemeral: bool
    summary: str


POLICIES: dict[str, CompletionPolicy] = {p.name: p for p in (
    CompletionPolicy("ephemeral", "eph", True, "codex --ephemeral: no session file; history live-only"),
    CompletionPolicy("persistent", "pers", False, "codex keeps its rollout; the lane reads it back"),
)}

#: What a lane run uses when nobody names a policy (``codex-matrix lane run``, ``resolve``).
DEFAULT_POLICY = "persistent"


def is_ephemeral(policy: str) -> bool:
    """True for a policy whose runs keep no history (an unknown name is not ephemeral)."""
    entry = POLICIES.get(policy)
    return entry is not None and entry.ephemeral
