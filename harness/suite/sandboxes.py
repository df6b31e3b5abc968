"""codex's sandbox modes (``sandbox_mode``): the registry that owns their names and what each one needs.

``danger-full-access`` runs no sandbox of codex's own (the container is the only boundary) and is the
default: a cell id names its mode only when it is another one. ``read-only`` and ``workspace-write``
run codex's sandbox inside the container, which needs Docker's seccomp profile plus our additions
(:mod:`harness.images.seccomp`). Matrix validation, command-line help, the grid's headers and the
container's seccomp choice read these entries, so a new mode is one entry here.

Standard library only: the contract suite reads it inside the containers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodexSandbox:
    """``short``: the grid's header line (the default mode has none); ``sandboxed``: codex's own sandbox
    runs, so the container needs the merged seccomp profile; ``summary``: for help texts."""

    name: str
    short: str
    sandboxed: bool
    summary: str


SANDBOX_MODES: dict[str, CodexSandbox] = {m.name: m for m in (
    CodexSandbox("read-only", "ro", True, "codex's sandbox, nothing writable (exec's own default)"),
    CodexSandbox("workspace-write", "ws", True, "codex's sandbox, the workspace writable (the common choice)"),
    CodexSandbox("danger-full-access", "full", False, "no codex sandbox: the container is the boundary"),
)}

#: The sandbox mode of a cell whose id names none: codex's sandbox off (the container is the boundary).
DEFAULT_SANDBOX = "danger-full-access"

#: Modes that run codex's own sandbox and so need the merged seccomp profile.
SANDBOXED: frozenset[str] = frozenset(m.name for m in SANDBOX_MODES.values() if m.sandboxed)
