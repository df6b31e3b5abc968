"""What each scenario must do to a native cell, in one table the tests read.

Kept as data so the matrix's per-scenario truth is reviewable at a glance and matches the facts
measured on real builds (see ../shared/reference/codex-cli-facts.md §1.3 and §3.3).
"""

from __future__ import annotations

from typing import Any

# thread status, exit code (None = killed by the lane's timeout), usage authority
SCENARIO_OUTCOME: dict[str, dict[str, Any]] = {
    "ok": {"status": "completed", "exit_code": 0, "usage_authority": "live-turn-completed"},
    "tool": {"status": "completed", "exit_code": 0, "usage_authority": "live-turn-completed"},
    "unauthorized": {"status": "failed", "exit_code": 1, "usage_authority": "none"},
    "server-error": {"status": "failed", "exit_code": 1, "usage_authority": "none"},
    "rate-limited": {"status": "failed", "exit_code": 1, "usage_authority": "none"},
    "disconnect": {"status": "failed", "exit_code": 1, "usage_authority": "none"},
    "hang": {"status": "interrupted", "exit_code": None, "usage_authority": "none"},
}

SUCCESS_SCENARIOS = ("ok", "tool")
REPLY = "OK"
TOOL_MARKER = "matrix-tool-ok"
# A run may overshoot its timeout by the kill grace period and process teardown, never by more.
TIMEOUT_SLACK_S = 8.0


def expected_history(policy: str, status: str) -> set[str]:
    """History completeness a run may truthfully claim."""
    if policy == "ephemeral":
        return {"live-only"}
    if status == "completed":
        return {"hydrated"}
    return {"explicit-hydration-required"}

# Legacy builds (< 0.44) never print a terminal event. On an error 0.20.x never exits (the lane's
# timeout ends it: `interrupted`); from 0.21 they exit 0 after printing an error message (`failed`).
# Measured in containers on 0.20.0 (hangs) and 0.21.0, 0.28.0, 0.29.0, 0.34.0, 0.36.0, 0.40.0, 0.42.0.
LEGACY_HANGS_BEFORE = (0, 21)
# The lane hands an env key (CODEX_API_KEY or OPENAI_API_KEY) to a pre-0.44 build as OPENAI_API_KEY,
# which 0.20–0.34 send and 0.36–0.42 ignore (facts §4, #3189): there only auth.json reaches the API.
OPENAI_KEY_ENV_IGNORED_FROM = (0, 36)
ENV_KEY_CREDENTIALS = ("codex-api-key", "openai-api-key")


def legacy_key_reaches_api(version: tuple[int, ...], credential: str) -> bool:
    """Whether a valid key of this credential setup reaches the fake API from a legacy build."""
    if credential == "auth-json":
        return True
    return credential in ENV_KEY_CREDENTIALS and version < OPENAI_KEY_ENV_IGNORED_FROM


def legacy_outcome(version: tuple[int, ...], credential: str, scenario: str) -> dict[str, Any]:
    """Thread status and exit code the lane must report for a legacy build's run."""
    authorised = legacy_key_reaches_api(version, credential)
    if authorised and scenario in SUCCESS_SCENARIOS:
        return {"status": "completed", "exit_code": 0}
    if version < LEGACY_HANGS_BEFORE:
        return {"status": "interrupted", "exit_code": None}
    if authorised and scenario == "hang":  # the API never answers; only the lane's timeout ends the run
        return {"status": "interrupted", "exit_code": None}
    return {"status": "failed", "exit_code": 0}  # the fake API answered 401/429/500 or cut the stream
