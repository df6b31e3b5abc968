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
# timeout ends it: `interrupted`); 0.29–0.42 exit 0 after printing an error message (`failed`).
LEGACY_HANGS_BEFORE = "0.29.0"
GOOD_CREDENTIALS = ("codex-api-key", "openai-api-key", "auth-json")


def legacy_outcome(version: tuple[int, ...], credential: str, scenario: str) -> dict[str, Any]:
    """Thread status and exit code the lane must report for a legacy build's run."""
    if credential in GOOD_CREDENTIALS and scenario in SUCCESS_SCENARIOS:
        return {"status": "completed", "exit_code": 0}
    if version < tuple(int(p) for p in LEGACY_HANGS_BEFORE.split(".")):
        return {"status": "interrupted", "exit_code": None}
    return {"status": "failed", "exit_code": 0}
