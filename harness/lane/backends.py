"""Which backend runs a request, and why: the truthful-fallback rule of the codex-native lane.

Backends: ``auto | adapter | api | codex-native``. ``codex-native`` is opt-in twice over — it must be
requested by name *and* enabled with ``CODEX_NATIVE_LANE=1`` — so ``auto`` never resolves to it, and
when it is requested but cannot run truthfully the old lane takes over: ``api`` when a raw API key is
available (explicit, ``CODEX_API_KEY`` or ``OPENAI_API_KEY``; codex's auth.json does not count, the api
lane cannot use it), else ``adapter``. ``api`` requested without a key falls back to ``adapter`` the
same way, saying so, rather than failing later with an authentication error.

The native lane's state is the *first* unmet requirement, checked in the order a user fixes them:

1. feature flag ``CODEX_NATIVE_LANE=1``  → else ``locked``
2. a codex binary (explicit, ``CODEX_CLI_PATH``, PATH)  → else ``runtime-missing``
3. a credential (explicit key, the two env keys, auth.json)  → else ``authentication-required``
4. the build's probe: thread-events protocol, the seam's flags, ``--ephemeral`` when the policy is
   ephemeral  → else ``degraded``

Everything is still looked up when an earlier check fails (the binary is probed even when locked), so
the decision reports the whole picture and a user fixing the flag learns about the next problem now.
Each state comes with a one-line reason naming the problem and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.lane.credentials import (
    BRIDGED_ENV_KEYS,
    Credential,
    api_key_available,
    default_codex_home,
    resolve_credential,
)
from harness.lane.events import Policy
from harness.lane.executable import CODEX_CLI_PATH_ENV, Executable, describe_miss, discover_executable
from harness.lane.probe import Capabilities, probe
from harness.lane.seam import REQUIRED_FLAGS

BackendName = Literal["auto", "adapter", "api", "codex-native"]
BACKENDS: tuple[BackendName, ...] = ("auto", "adapter", "api", "codex-native")
NativeState = Literal["ready", "locked", "runtime-missing", "authentication-required", "degraded"]
NATIVE_STATES: tuple[NativeState, ...] = ("ready", "locked", "runtime-missing", "authentication-required", "degraded")
DecisionState = Literal["selected", "fallback"]

FEATURE_FLAG_ENV = "CODEX_NATIVE_LANE"
CAPABILITY_PROFILE = "headless-limited"
#: What a headless ``codex exec`` run cannot offer, whatever the build.
UNSUPPORTED_CAPABILITIES: tuple[str, ...] = ("plugins", "mcp", "skills", "approvals", "interactive-prompts")

Prober = Callable[[Executable], Capabilities]


@dataclass(frozen=True)
class NativeAssessment:
    """Whether codex-native could run this request, with everything that was found on the way."""

    state: NativeState
    reason: str
    executable: Executable | None
    credential: Credential
    capabilities: Capabilities | None

    def to_dict(self) -> dict[str, Any]:
        exe = self.executable
        caps = self.capabilities
        return {
            "state": self.state,
            "reason": self.reason,
            "executable": None
            if exe is None
            else {"path": exe.path, "source": exe.source, "version": exe.version, "version_line": exe.version_line},
            "credential_source": self.credential.source,
            "credential_origin": self.credential.origin,
            "protocol": None if caps is None else caps.protocol,
            "capabilities": {
                "profile": CAPABILITY_PROFILE,
                "unsupported": list(UNSUPPORTED_CAPABILITIES),
                "supports_ephemeral": None if caps is None else caps.supports_ephemeral,
            },
        }


@dataclass(frozen=True)
class BackendDecision:
    """``resolved`` is what runs; ``state`` is ``fallback`` when that is not what was requested."""

    requested: BackendName
    resolved: BackendName
    state: DecisionState
    reason: str
    fallback_from: BackendName | None
    policy: Policy
    native: NativeAssessment

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "resolved": self.resolved,
            "state": self.state,
            "reason": self.reason,
            "fallback_from": self.fallback_from,
            "policy": self.policy,
            "native": self.native.to_dict(),
        }


def _name(exe: Executable) -> str:
    return exe.version_line or f"codex at {exe.path}"


def _degradation(exe: Executable, caps: Capabilities, policy: Policy) -> str | None:
    """Why this build can't serve ``policy`` truthfully, or None if it can."""
    if caps.protocol == "legacy":
        return (
            f"{_name(exe)} prints the legacy --json stream, and the lane needs thread events "
            "(codex-cli 0.44.0 or newer): upgrade codex"
        )
    if caps.protocol == "unknown":
        return (
            f"the --json protocol of {exe.path} is unknown (`codex --version` printed no codex-cli version "
            "and its help proves nothing): point the lane at a released codex-cli build"
        )
    missing = [flag for flag in REQUIRED_FLAGS if flag not in caps.flags]
    if missing:
        return f"{_name(exe)} lacks {', '.join(missing)} in `codex exec --help`: upgrade codex"
    if policy == "ephemeral" and not caps.supports_ephemeral:
        return (
            f"{_name(exe)} has no --ephemeral (added in 0.99.0), and the lane never persists a run that was "
            "asked to be ephemeral: use the persistent policy or upgrade codex"
        )
    return None


def assess_native(
    *,
    policy: Policy,
    env: Mapping[str, str],
    codex_path: str | None,
    api_key: str | None,
    codex_home: Path | None,
    prober: Prober,
) -> NativeAssessment:
    """The codex-native state, per the check order in the module docstring."""
    exe = discover_executable(codex_path, env)
    credential = resolve_credential(api_key, env, codex_home)
    caps = prober(exe) if exe is not None else None

    def verdict(state: NativeState, reason: str) -> NativeAssessment:
        return NativeAssessment(state, f"codex-native is {state}: {reason}", exe, credential, caps)

    flag = env.get(FEATURE_FLAG_ENV)
    if flag != "1":
        seen = "" if flag is None else f" (it is {flag!r})"
        return verdict("locked", f"set {FEATURE_FLAG_ENV}=1 to enable it{seen}")
    if exe is None:
        named = bool(codex_path) or bool(env.get(CODEX_CLI_PATH_ENV))
        fix = "point it at an existing codex binary" if named else (
            f"install @openai/codex or set {CODEX_CLI_PATH_ENV} to the codex binary"
        )
        return verdict("runtime-missing", f"{describe_miss(codex_path, env)}: {fix}")
    if credential.source == "none":
        home = codex_home if codex_home is not None else default_codex_home(env)
        where = f" in {home}" if home is not None else ""
        return verdict(
            "authentication-required",
            f"no credential found: set {' or '.join(BRIDGED_ENV_KEYS)}, or run `codex login` so that "
            f"auth.json{where} holds a key",
        )
    assert caps is not None
    problem = _degradation(exe, caps, policy)
    if problem is not None:
        return verdict("degraded", problem)
    return verdict(
        "ready",
        f"{_name(exe)} from {exe.source} ({exe.path}), {credential.describe()}, thread-events protocol",
    )


def _old_lane(api_key: str | None, env: Mapping[str, str]) -> tuple[BackendName, str]:
    """The old lane for this environment and a short why: ``api`` needs a raw key."""
    origin = api_key_available(api_key, env)
    if origin is None:
        return "adapter", "no API key for api"
    return "api", f"API key from {origin}"


def resolve_backend(
    requested: str,
    *,
    policy: Policy = "persistent",
    env: Mapping[str, str] | None = None,
    codex_path: str | None = None,
    api_key: str | None = None,
    codex_home: Path | None = None,
    prober: Prober = probe,
) -> BackendDecision:
    """Decide the backend for ``requested``; ``env`` defaults to ``os.environ``. Never raises on state."""
    if requested not in BACKENDS:
        raise ValueError(f"unknown backend {requested!r}: pick one of {', '.join(BACKENDS)}")
    if policy not in ("ephemeral", "persistent"):
        raise ValueError(f"unknown completion policy {policy!r}: pick ephemeral or persistent")
    env = os.environ if env is None else env
    native = assess_native(
        policy=policy, env=env, codex_path=codex_path, api_key=api_key, codex_home=codex_home, prober=prober
    )
    old, detail = _old_lane(api_key, env)
    old_why = f"{old} ({detail})"

    def decide(resolved: BackendName, fallback: bool, reason: str) -> BackendDecision:
        return BackendDecision(
            requested=requested,
            resolved=resolved,
            state="fallback" if fallback else "selected",
            reason=reason,
            fallback_from=requested if fallback else None,
            policy=policy,
            native=native,
        )

    if requested == "codex-native":
        if native.state == "ready":
            return decide("codex-native", False, native.reason)
        return decide(old, True, f"{native.reason}; falling back to {old_why}")
    if requested == "auto":
        return decide(old, False, f"auto picks the old lane: {old_why}; codex-native is only used when requested")
    if requested == "api":
        if old == "api":
            return decide("api", False, f"api requested: {detail}")
        return decide(
            "adapter",
            True,
            f"api needs an API key and none is set (explicit, {', '.join(BRIDGED_ENV_KEYS)}); falling back to adapter",
        )
    return decide("adapter", False, "adapter requested")
