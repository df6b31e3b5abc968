"""One lane run end to end: discovery → credential → probe → seam → mapper → authority → hydration →
projection. This is the facade the contract suite and ``codex-matrix lane run`` call.

A run that could not be done truthfully (no binary, a build that can't honour the policy, a binary
that won't start) is not an exception here: it is a :class:`LaneResult` with ``refused`` set, thread
status ``failed`` (the run was asked for and did not happen — "interrupted" would claim it started),
no usage authority, and a transcript that still parses, so callers report it like any other outcome.

Secrets: the credential's key and key-shaped strings are masked (with :mod:`harness.redact`, the
project's one redaction helper, which is standard-library only) in everything the run keeps from the
child's output, so a build that echoes its key in an error message can't put it into the transcript,
the warnings or the summary. The masking runs after the stream was parsed and judged, on values, never
on the raw lines (:mod:`harness.lane.masking` says why).
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.lane.authority import Authority, derive_authority, initial_history
from harness.lane.credentials import Credential, default_codex_home, resolve_credential
from harness.lane.events import NormalizedEvent, Policy
from harness.lane.executable import Executable, describe_miss, discover_executable
from harness.lane.hydration import HydrationResult, find_rollout, hydrate
from harness.lane.mapper import MappedStream, map_stream, warning
from harness.lane.masking import mask_authority, mask_events, mask_hydration, mask_stream
from harness.lane.probe import Capabilities, probe
from harness.lane.projection import ProjectionContext, codex_usage, project
from harness.lane.seam import SeamRefused, SeamRequest, SeamResult, run_seam
from harness.redact import Redactor

#: The ``version`` every projected row carries: this lane's version, not codex's.
LANE_VERSION = "codex-native-lane/0.1.0"
CAPABILITY_PROFILE = "headless-limited"


@dataclass(frozen=True)
class LaneRequest:
    prompt: str
    cwd: Path
    policy: Policy
    codex_home: Path
    codex_path: str | None = None
    api_key: str | None = field(default=None, repr=False)
    env: Mapping[str, str] | None = field(default=None, repr=False)  # discovery + credential lookup
    config_overrides: tuple[str, ...] = ()
    timeout_s: float = 120.0
    extra_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    stdout_observer: Callable[[bytes], None] | None = field(default=None, repr=False)  # see SeamRequest


@dataclass(frozen=True)
class LaneResult:
    request: LaneRequest
    executable: Executable | None
    capabilities: Capabilities | None
    credential: Credential
    seam: SeamResult | None
    refused: str | None
    mapped: MappedStream
    authority: Authority
    hydration: HydrationResult | None
    warnings: tuple[NormalizedEvent, ...]
    transcript: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """The sign-off summary: what the Phase 0 evidence reported per run, as one JSON-able dict."""
        by_source: dict[str, list[str]] = {"process": [], "history": []}
        for event in self.warnings:
            by_source.setdefault(str(event.data.get("source")), []).append(str(event.data.get("text", "")))
        exe = self.executable
        return {
            "thread_id": self.authority.thread_id,
            "thread_status": self.authority.thread_status,
            "status_reason": self.authority.status_reason,
            "exit_code": self.seam.exit_code if self.seam else None,
            "timed_out": self.seam.timed_out if self.seam else False,
            "refused": self.refused,
            "completion_policy": self.request.policy,
            "history_completeness": self.authority.history_completeness,
            "rollout_path": str(self.hydration.rollout_path) if self.hydration and self.hydration.rollout_path
            else None,
            "usage_authority": self.authority.usage_authority,
            "usage": codex_usage(self.authority.usage),
            "executable": {"path": exe.path, "source": exe.source, "version": exe.version,
                           "version_line": exe.version_line} if exe else None,
            "credential_source": self.credential.source,
            "credential_origin": self.credential.origin,
            "capability_profile": CAPABILITY_PROFILE,
            "protocol": self.mapped.protocol,  # what the stream showed ("unknown" when nothing ran)
            "probed_protocol": self.capabilities.protocol if self.capabilities else None,
            "warnings_by_source": by_source,
            "unsupported_raw_events": [str(e.data.get("raw_type")) for e in self.mapped.events
                                       if e.kind == "unsupported_raw_event"],
            "final_text": self.authority.final_text,
            "transcript_rows": len(self.transcript),
            "duration_s": self.seam.duration_s if self.seam else None,
        }


def configured_model(codex_home: Path, overrides: tuple[str, ...]) -> str | None:
    """The model codex will use as far as config says: a ``-c model=…`` override, else config.toml."""
    for item in reversed(overrides):
        key, _, value = item.partition("=")
        if key.strip() == "model":
            try:
                parsed = tomllib.loads(f"v = {value}").get("v")
            except tomllib.TOMLDecodeError:
                parsed = value
            return str(parsed)
    try:
        model = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8")).get("model")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return model if isinstance(model, str) else None


def git_branch(cwd: Path) -> str | None:
    """The checked-out branch of the repository containing ``cwd``, read from ``HEAD`` (no git binary)."""
    for directory in (cwd, *cwd.parents):
        dot_git = directory / ".git"
        try:
            if dot_git.is_file():  # worktree or submodule: "gitdir: <path>"
                target = dot_git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
                dot_git = (directory / target).resolve()
            if dot_git.is_dir():
                head = (dot_git / "HEAD").read_text(encoding="utf-8").strip()
                return head.removeprefix("ref: refs/heads/") if head.startswith("ref: ") else "HEAD"
        except (OSError, UnicodeDecodeError):
            return None
    return None


def utc_now() -> datetime:
    """The default clock of :func:`run_lane`; tests inject a fixed one."""
    return datetime.now(UTC)


def random_id() -> str:
    """The default id source of :func:`run_lane` (uuid4); tests inject a counter."""
    return str(uuid.uuid4())


def _history_events(policy: Policy, authority: Authority, codex_home: Path) -> tuple[
        Authority, HydrationResult | None, list[NormalizedEvent]]:
    """Hydrate a completed persistent run; check an ephemeral one left no rollout behind."""
    if policy == "ephemeral":
        if authority.thread_id and (path := find_rollout(codex_home, authority.thread_id)) is not None:
            return authority, None, [warning(
                f"ephemeral run wrote a rollout ({path}): the build did not honour --ephemeral",
                source="history", origin="hydration")]
        return authority, None, []
    if authority.thread_status != "completed":
        return authority, None, [warning(
            f"history not hydrated: thread {authority.thread_status}, so there is no completed turn to "
            "read back", source="history", origin="hydration")]
    result = hydrate(codex_home, authority.thread_id, final_text=authority.final_text, usage=authority.usage)
    events = [warning(text, source="history", origin="hydration") for text in result.warnings]
    return replace(authority, history_completeness=result.completeness), result, events


def _refusal(request: LaneRequest, reason: str) -> tuple[MappedStream, Authority, list[NormalizedEvent]]:
    authority = Authority(
        thread_id=None, thread_status="failed", usage_authority="none",
        history_completeness=initial_history(request.policy), usage=None, final_text=None,
        status_reason=f"refused: {reason}",
    )
    return MappedStream(events=(), protocol="unknown"), authority, [
        warning(f"run refused: {reason}", origin="lane")]


def run_lane(
    request: LaneRequest,
    *,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], str] = random_id,
) -> LaneResult:
    """Run once and return everything the run showed; refusals are results, not exceptions."""
    env = os.environ if request.env is None else request.env
    executable = discover_executable(request.codex_path, env)
    codex_home = Path(request.codex_home) if request.codex_home else default_codex_home(env)
    credential = resolve_credential(request.api_key, env, codex_home)
    capabilities: Capabilities | None = None
    seam: SeamResult | None = None
    refused: str | None = None
    hydration: HydrationResult | None = None
    extra: list[NormalizedEvent] = []
    if executable is None:
        refused = f"codex executable not found: {describe_miss(request.codex_path, env)}"
    elif codex_home is None:
        refused = "no CODEX_HOME: neither the request, CODEX_HOME nor HOME names one"
    else:
        capabilities = probe(executable)
        try:
            seam = run_seam(SeamRequest(
                executable=executable, prompt=request.prompt, cwd=Path(request.cwd), policy=request.policy,
                codex_home=codex_home, credential=credential, config_overrides=request.config_overrides,
                timeout_s=request.timeout_s, extra_env=request.extra_env, capabilities=capabilities,
                stdout_observer=request.stdout_observer,
            ))
        except SeamRefused as exc:
            refused = exc.reason
        except OSError as exc:
            refused = f"could not start {executable.path}: {exc}"
    if seam is None or codex_home is None:
        mapped, authority, extra = _refusal(request, refused or "not run")
    else:
        # parse and judge what codex printed, then mask what the run keeps (see harness.lane.masking)
        mapped = map_stream(seam.stdout, seam.stderr)
        authority = derive_authority(mapped.events, policy=request.policy, exit_code=seam.exit_code,
                                     timed_out=seam.timed_out, protocol=mapped.protocol)
        authority, hydration, extra = _history_events(request.policy, authority, codex_home)
        redact = Redactor([credential.key] if credential.key else [])
        mapped, authority = mask_stream(mapped, redact), mask_authority(authority, redact)
        hydration, extra = mask_hydration(hydration, redact), list(mask_events(extra, redact))
    events = (*mapped.events, *extra)
    ctx = ProjectionContext(
        cwd=Path(request.cwd), session_id=authority.thread_id or new_id(), prompt=request.prompt,
        policy=request.policy, executable=executable,
        model=configured_model(codex_home, request.config_overrides) if codex_home else None,
        version=LANE_VERSION, git_branch=git_branch(Path(request.cwd).absolute()),
        exit_code=seam.exit_code if seam else None, protocol=mapped.protocol,
    )
    transcript = project(events, authority, ctx, clock=clock, new_id=new_id)
    return LaneResult(
        request=request, executable=executable, capabilities=capabilities, credential=credential, seam=seam,
        refused=refused, mapped=mapped, authority=authority, hydration=hydration,
        warnings=tuple(e for e in events if e.kind == "warning"), transcript=transcript,
    )
