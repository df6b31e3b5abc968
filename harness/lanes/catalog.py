"""Which lanes exist, how a lane is named, what it can be tested for, and how its adapter is started.

Groundwork for the lane axis (issue 23): a lane is named like a build, with its version, and for the SDK
its mode: ``python``, ``codex-sdk@0.163.0`` (documented mode), ``codex-sdk@0.163.0:provider``. A lane
declares its *capabilities* — ``seam`` (it reports the events, answer, usage and how the run ended: every
lane), ``projection`` (it projects transcript rows), ``policy`` (it honours a completion policy) — and a
contract test declares which it needs; :func:`applies` is the one rule between them, so a test that does
not apply to a lane is *not applicable*, never a pass. Standard library only.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Capability = Literal["seam", "projection", "policy"]
CAPABILITIES: tuple[Capability, ...] = ("seam", "projection", "policy")

#: What each lane kind can be tested for.
KIND_CAPABILITIES: Mapping[str, frozenset[Capability]] = {
    "python": frozenset({"seam", "projection", "policy"}),
    "codex-sdk": frozenset({"seam"}),  # no transcript rows; no ephemeral/persistent choice
}
#: Modes per kind, the first being the default.
KIND_MODES: Mapping[str, tuple[str, ...]] = {"python": ("default",), "codex-sdk": ("documented", "provider")}
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

    def __str__(self) -> str:
        text = self.kind + (f"@{self.version}" if self.version else "")
        return text if self.mode == KIND_MODES[self.kind][0] else f"{text}:{self.mode}"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return KIND_CAPABILITIES[self.kind]


def parse_lane(text: str) -> LaneId:
    """``codex-sdk@0.163.0:provider`` → LaneId; the SDK needs a version, the Python lane takes none."""
    match = _NAME.match(text.strip())
    if not match or match["kind"] not in KIND_CAPABILITIES:
        raise LaneNameError(f"{text!r} names no lane: use python, codex-sdk@<version> or codex-sdk@<version>:provider")
    kind, version = match["kind"], match["version"]
    modes = KIND_MODES[kind]
    mode = match["mode"] or modes[0]
    if mode not in modes:
        raise LaneNameError(f"{text!r}: {kind} has no mode {mode!r} (modes: {', '.join(modes)})")
    if kind == "codex-sdk" and version is None:
        raise LaneNameError(f"{text!r}: name the SDK version, e.g. codex-sdk@0.163.0")
    if kind == "python" and version is not None:
        raise LaneNameError(f"{text!r}: the python lane is this checkout's; write python")
    return LaneId(kind=kind, version=version, mode=mode)


def applies(needs: Collection[Capability], lane: LaneId) -> bool:
    """True when ``lane`` can be judged by a test that needs ``needs`` (else: not applicable)."""
    return set(needs) <= lane.capabilities


def adapter_argv(lane: LaneId) -> list[str]:
    """How to start the lane's adapter (the Python lane in this interpreter, the SDK's under node)."""
    if lane.kind == "python":
        return [sys.executable, "-m", "harness.lanes.python_adapter"]
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
