"""Our Python lane as a lane adapter: the reference implementation of the protocol.

    python -m harness.lanes.python_adapter < request.json > result.json

It drives :func:`harness.lane.session.run_lane` exactly as the contract suite does (same request
fields, same built environment), so putting the protocol between the suite and the lane changes no
verdict; it only translates the lane's verdict into the protocol's outcome classes:

* the run was refused (no binary, a build that cannot honour the policy) → ``exit-nonzero``: the lane
  said clearly that it would not run, which is a reported failure, not a broken lane;
* the seam timed out → ``hang``; codex killed by a signal, the turn failed or codex exited non-zero →
  ``exit-nonzero`` with the lane's ``status_reason``;
* the turn completed with an answer → ``ok``, without one → ``silent-empty``;
* an exception inside the lane → ``crash`` with the exception's one line (the traceback on stderr).

Lane-specific request ``options``: ``config_overrides`` (codex ``-c`` items, e.g. the cell's sandbox
mode) and ``extra_env`` (variables the suite adds for a build, e.g. ``OPENAI_BASE_URL`` for 0.8.0).
Standard library only: it runs inside the containers.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from harness.lane.mapper import json_objects
from harness.lane.projection import codex_usage
from harness.lane.session import LANE_VERSION, LaneRequest, LaneResult, run_lane
from harness.lanes.protocol import AdapterRequest, AdapterResult, Outcome, ProtocolError, first_line
from harness.redact import Redactor

LANE = f"python@{LANE_VERSION.rpartition('/')[2]}"
#: PATH for discovery when the adapter's own environment has none (the child's PATH is the seam's own).
_FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin"
STDERR_TAIL_CHARS = 8000


def raw_event_types(stdout: bytes) -> list[str]:
    """The codex event types in stdout order: ``type`` of a thread event, ``msg.type`` of a legacy line.

    Lines that are not JSON objects are not events and are skipped (the lane maps them to warnings); the
    lines are read by the lane's own reader, so these are the events the lane mapped."""
    types: list[str] = []
    for doc in json_objects(stdout):
        if isinstance(doc.get("type"), str):
            types.append(doc["type"])
        elif isinstance(doc.get("msg"), dict) and isinstance(doc["msg"].get("type"), str):
            types.append(doc["msg"]["type"])
    return types


def _str_tuple(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"option {name!r} must be an array of strings")
    return tuple(value)


def _str_map(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ProtocolError(f"option {name!r} must map names to strings")
    return dict(value)


def lane_request(req: AdapterRequest, adapter_env: Mapping[str, str]) -> LaneRequest:
    """The :class:`LaneRequest` the suite would build for ``req`` (see ``harness.suite.cellrun``)."""
    unknown = sorted(set(req.options) - {"config_overrides", "extra_env"})
    if unknown:
        raise ProtocolError(f"option {unknown[0]!r} is not one the python lane takes (config_overrides, extra_env)")
    if req.policy not in ("ephemeral", "persistent"):
        raise ProtocolError(f"the python lane needs a policy, ephemeral or persistent; got {req.policy!r}")
    env = {"PATH": adapter_env.get("PATH") or _FALLBACK_PATH, "HOME": req.home, "CODEX_HOME": req.codex_home,
           "LANG": "C.UTF-8", **req.env}
    return LaneRequest(
        prompt=req.prompt, cwd=Path(req.cwd), policy=req.policy, codex_home=Path(req.codex_home),  # type: ignore[arg-type]
        codex_path=req.codex_path, env=env, timeout_s=req.timeout_s,
        config_overrides=_str_tuple(req.options.get("config_overrides", []), "config_overrides"),
        extra_env=_str_map(req.options.get("extra_env", {}), "extra_env"),
    )


def classify(result: LaneResult) -> tuple[Outcome, str | None]:
    """The protocol outcome of one lane run, and the error text for a failure (module docstring)."""
    authority = result.authority
    if result.refused is not None:
        return "exit-nonzero", f"refused: {result.refused}"
    if result.seam is not None and result.seam.timed_out:
        return "hang", f"codex gave no result within the lane's timeout ({authority.status_reason})"
    if authority.thread_status == "completed":
        return ("ok", None) if (authority.final_text or "").strip() else ("silent-empty", None)
    return "exit-nonzero", authority.status_reason or f"thread {authority.thread_status}"


def to_result(result: LaneResult) -> AdapterResult:
    outcome, error = classify(result)
    seam = result.seam
    redact = Redactor([result.credential.key] if result.credential.key else [])
    stderr = redact(seam.stderr.decode("utf-8", errors="replace"))[-STDERR_TAIL_CHARS:] if seam else None
    usage = codex_usage(result.authority.usage)
    return AdapterResult(
        lane=LANE, outcome=outcome, events=tuple(raw_event_types(seam.stdout)) if seam else (),
        thread_id=result.authority.thread_id,
        final_text=result.authority.final_text if outcome == "ok" else (result.authority.final_text or None),
        usage={k: v for k, v in usage.items() if v is not None} if usage else None,
        exit_code=seam.exit_code if seam else None, error=redact(error) if error else None,
        transcript=tuple(result.transcript), stderr=stderr, extra={"summary": result.summary()},
    )


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, env: Mapping[str, str] = os.environ) -> int:
    """Read one request, run the lane, print one result. Exit 0 when a result was printed."""
    try:
        request = AdapterRequest.loads(stdin.read())
        result = to_result(run_lane(lane_request(request, env)))
    except ProtocolError as exc:
        result = AdapterResult(lane=LANE, outcome="crash", error=f"bad request: {exc}")
    except Exception as exc:  # the lane broke: say so in the protocol, keep the traceback on stderr
        traceback.print_exc()
        result = AdapterResult(lane=LANE, outcome="crash",
                               error=f"{type(exc).__name__}: {first_line(str(exc)) or 'no message'}")
    stdout.write(result.dumps() + "\n")
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
