"""Which lanes exist, how a lane is named, what it can be tested for, and how its adapter is started.

Groundwork for the lane axis (issue 23): a lane is named like a build, with its version, and for the SDK
its mode: ``python``, ``codex-sdk@0.163.0`` (documented mode), ``codex-sdk@0.163.0:provider``. A lane
declares its *capabilities* — ``seam`` (it reports the events, answer, usage and how the run ended: every
lane), ``projection`` (it projects transcript rows), ``policy`` (it honours a completion policy) — and a
contract test declares which it needs; :func:`applies` is the one rule between them, so a test that does
not apply to a lane is *not applicable*, never a pass. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Capability = Literal["seam", "projection", "policy"]
PYTHON = "python"
CAPABILITIES: tuple[Capability, ...] = ("seam", "projection", "policy")

#: What each lane kind can be tested for.
KIND_CAPABILITIES: Mapping[str, frozenset[Capability]] = {
    "python": frozenset({"seam", "projection", "policy"}),
    "codex-sdk": frozenset({"seam"}),  # no transcript rows; no ephemeral/persistent choice
    "script": frozenset({"seam"}),  # a user's own adapter program (docs/examples/minimal-lane.mjs)
}
#: Modes per kind, the first being the default.
KIND_MODES: Mapping[str, tuple[str, ...]] = {"python": ("default",), "codex-sdk": ("documented", "provider"),
                                             "script": ("default",)}
#: Credential setups each kind can be given (None: all). The SDK takes a key as ``apiKey`` (→ CODEX_API_KEY);
#: it has no place for auth.json, a ChatGPT login or a missing key that its README documents.
KIND_CREDENTIALS: Mapping[str, tuple[str, ...] | None] = {"python": None, "codex-sdk": ("codex-api-key",),
                                                          "script": ("codex-api-key",)}
SCRIPT = "script"
#: How a script lane is started, by its file's suffix (the interpreter the lane image has).
SCRIPT_RUNTIMES: Mapping[str, str] = {".mjs": "node", ".js": "node", ".cjs": "node", ".sh": "sh", ".py": "python3"}
#: Where a script lane's directory is mounted in the container (read-only): ``<root>/<digest of its path>/``.
SCRIPT_ROOT = "/cnm-lanes/script"
#: The policy a lane without the ``policy`` capability runs as: the SDK never passes ``--ephemeral``, so
#: every thread it starts is persisted. Its cells carry this policy, once.
NO_POLICY = "persistent"
#: The fake-API scenarios a lane driven through its adapter runs (each judged by tests that need ``seam``
#: only): an answer, a tool round trip, and two failures the API reports (401, 500).
ADAPTER_SCENARIOS: tuple[str, ...] = ("ok", "tool", "unauthorized", "server-error")
ADAPTER_MJS = Path(__file__).resolve().parent / "codex_sdk" / "adapter.mjs"
_NAME = re.compile(r"^(?P<kind>[a-z][a-z0-9-]*)(?:@(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?))?"
                   r"(?::(?P<mode>[a-z][a-z0-9-]*))?$")


class LaneNameError(ValueError):
    """A lane name that names no lane; ``str()`` is one line with the fix."""


@dataclass(frozen=True)
class LaneId:
    kind: str
    version: str | None
    mode: str
    #: a script lane's program, as an absolute path on the host (``script:/…/my-lane.mjs``)
    path: str | None = None

    def __str__(self) -> str:
        if self.path is not None:
            return f"{SCRIPT}:{self.path}"
        text = self.kind + (f"@{self.version}" if self.version else "")
        return text if self.mode == KIND_MODES[self.kind][0] else f"{text}:{self.mode}"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return KIND_CAPABILITIES[self.kind]

    @property
    def full(self) -> str:
        """The name with its mode always spelled out (``codex-sdk@0.163.0:documented``): what a cell stores."""
        if self.path is not None:
            return str(self)
        text = self.kind + (f"@{self.version}" if self.version else "")
        return text if len(KIND_MODES[self.kind]) == 1 else f"{text}:{self.mode}"

    @property
    def slug(self) -> str:
        """The lane's part of a cell id (``codex-sdk-0.163.0-provider``): letters, digits and ``.-`` only, so
        a cell id stays one plain path part (:mod:`harness.safepath`)."""
        if self.path is not None:
            stem = re.sub(r"[^A-Za-z0-9.-]+", "-", Path(self.path).stem).strip("-.")[:40] or "lane"
            return f"{SCRIPT}-{stem}-{_path_digest(self.path)}"
        parts = [self.kind, *([self.version] if self.version else []),
                 *([self.mode] if len(KIND_MODES[self.kind]) > 1 else [])]
        return "-".join(parts)

    @property
    def foreign(self) -> bool:
        """True for every lane the suite drives through its adapter (all but our Python lane, which the
        suite runs in process as it always has: the reference whose verdicts must not move)."""
        return self.kind != PYTHON


def _path_digest(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:8]


def script_mount(path: str) -> str:
    """Where a script lane's directory is mounted in the container (the host path's digest names it)."""
    return f"{SCRIPT_ROOT}/{_path_digest(path)}"


def parse_lane(text: str) -> LaneId:
    """``codex-sdk@0.163.0:provider`` → LaneId; the SDK needs a version, the Python lane takes none;
    ``script:PATH`` is a user's adapter program (made absolute here: the host mounts it by that path)."""
    if text.strip().startswith(SCRIPT + ":"):
        path = text.strip()[len(SCRIPT) + 1:]
        if Path(path).suffix not in SCRIPT_RUNTIMES:
            runtimes = ", ".join(sorted(set(SCRIPT_RUNTIMES.values())))
            raise LaneNameError(f"{text!r}: a script lane is a program ending in {', '.join(SCRIPT_RUNTIMES)} "
                                f"(run by {runtimes})")
        return LaneId(kind=SCRIPT, version=None, mode="default", path=os.path.abspath(path))
    match = _NAME.match(text.strip())
    if not match or match["kind"] not in KIND_CAPABILITIES:
        raise LaneNameError(f"{text!r} names no lane: use python, codex-sdk@<version>, "
                            "codex-sdk@<version>:provider or script:<path to your adapter>")
    kind, version = match["kind"], match["version"]
    modes = KIND_MODES[kind]
    mode = match["mode"] or modes[0]
    if mode not in modes:
        raise LaneNameError(f"{text!r}: {kind} has no mode {mode!r} (modes: {', '.join(modes)})")
    if kind == "codex-sdk" and version is None:
        raise LaneNameError(f"{text!r}: name the SDK version, e.g. codex-sdk@0.163.0")
    if kind == SCRIPT:
        raise LaneNameError(f"{text!r}: name the program, e.g. script:docs/examples/minimal-lane.mjs")
    if kind == "python" and version is not None:
        raise LaneNameError(f"{text!r}: the python lane is this checkout's; write python")
    return LaneId(kind=kind, version=version, mode=mode)


def expand_lanes(text: str) -> list[LaneId]:
    """One lane name → its lanes: ``codex-sdk@0.163.0`` names every mode of that SDK (documented and
    provider), ``codex-sdk@0.163.0:provider`` only that one."""
    lane = parse_lane(text)
    if ":" in text or len(KIND_MODES[lane.kind]) == 1:
        return [lane]
    return [LaneId(lane.kind, lane.version, mode) for mode in KIND_MODES[lane.kind]]


def lane_of_slug(slug: str) -> LaneId | None:
    """The lane a cell id's lane part names (:attr:`LaneId.slug`), or None when it names none."""
    for kind, modes in KIND_MODES.items():
        if slug == kind:
            return LaneId(kind, None, modes[0]) if len(modes) == 1 else None
        if not slug.startswith(kind + "-"):
            continue
        rest = slug.removeprefix(kind + "-")
        for mode in modes if len(modes) > 1 else ():
            version = rest.removesuffix("-" + mode)
            if version != rest:
                try:
                    return parse_lane(f"{kind}@{version}:{mode}")
                except LaneNameError:
                    return None
    return None


def applies(needs: Collection[Capability], lane: LaneId) -> bool:
    """True when ``lane`` can be judged by a test that needs ``needs`` (else: not applicable)."""
    return set(needs) <= lane.capabilities


def adapter_argv(lane: LaneId) -> list[str]:
    """How to start the lane's adapter (the Python lane in this interpreter, the SDK's under node)."""
    if lane.kind == "python":
        return [sys.executable, "-m", "harness.lanes.python_adapter"]
    if lane.path is not None:  # inside the container, where the host mounts its directory
        return [SCRIPT_RUNTIMES[Path(lane.path).suffix], f"{script_mount(lane.path)}/{Path(lane.path).name}"]
    return ["node", str(ADAPTER_MJS)]


def adapter_options(lane: LaneId, *, sdk_dist: str | None = None, provider_config: Mapping[str, Any] | None = None,
                    ) -> dict[str, Any]:
    """The request's ``options`` for ``lane``: the SDK's dist/ and mode (plus the pinned provider)."""
    if lane.kind != "codex-sdk":
        return {}
    if not sdk_dist:
        raise ValueError(f"{lane} needs sdk_dist: the SDK cache's dist/ directory (harness.lanes.sdk_cache)")
    options: dict[str, Any] = {"sdk_dist": sdk_dist, "mode": lane.mode}
    if lane.mode == "provider" and provider_config is not None:
        options["config"] = dict(provider_config)
    return options
