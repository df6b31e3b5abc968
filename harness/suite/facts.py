"""What one lane run showed of its build, reduced to comparable facts (:class:`Facts`).

The fingerprint of a build, the diff between two builds and the atlas are all built from these facts,
so they hold only what was observed (event and item types, usage keys, declared tools, normalised
stderr lines, …), never what a table says a build should do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.lane.session import LaneResult
from harness.suite.oracle import stdout_objects
from harness.suite.protocol import known_fields

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TS = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z?|\d+(\.\d+)?m?s\b")
_PATH = re.compile(r"/(?:var/)?tmp/cnm/[^\s'\"]+")


@dataclass
class Facts:
    """What one (cell, scenario) run showed of its build, for fingerprints and diffs; all observed."""

    version_line: str | None = None
    protocol: str | None = None  # what the probe said
    stream_protocol: str | None = None  # what the stream showed
    flags: list[str] = field(default_factory=list)
    model: str | None = None  # the slug the cell ran with
    model_source: str | None = None  # how the slug was learned from the build
    model_catalog: list[str] = field(default_factory=list)  # slugs the build bundles
    event_types: list[str] = field(default_factory=list)
    item_types: list[str] = field(default_factory=list)
    usage_keys: list[str] = field(default_factory=list)
    tools_declared: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)  # normalised
    session_files: int = 0
    journal_credentials: list[str] = field(default_factory=list)  # what the API saw through the lane
    raw_api_saw: list[str] | None = None  # what the API saw from the build run bare (ok scenario only)
    credential_setup: str | None = None
    exit_code: int | None = None
    timed_out: bool = False
    thread_status: str | None = None
    refused: str | None = None
    wall_s: float = 0.0
    sandbox: str | None = None  # codex's sandbox_mode for the run
    commands: list[dict[str, Any]] = field(default_factory=list)  # each command item's status/exit_code/output
    cwd_files: list[str] = field(default_factory=list)  # files in the working directory after the run
    calls: list[str] = field(default_factory=list)  # requests beyond POST /responses, e.g. "GET models"
    tool_calls: int = 0  # shell tool calls the fake model made
    #: seconds from the fake's tool call to codex's follow-up carrying the output: how long the command
    #: took as codex ran it (the 150 ms exit grace of 0.99+ decides how its completion is printed)
    tool_turnaround_s: float | None = None
    stagings: int = 1  # runs it took to stage the scenario's world (see Scenario.turn_within_s)
    turn_after_command_s: float | None = None  # from the last command's end to the turn's end on stdout
    world_held: bool = True  # False: even the last staging missed the scenario's timing (machine overloaded)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        return cls(**known_fields(cls, data))

    @classmethod
    def read(cls, path: Path) -> Facts | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls.from_json(data) if isinstance(data, dict) else None


def normalize_stderr_line(line: str) -> str:
    """Stderr with run-specific noise (ids, times, temp paths) removed, so builds can be compared."""
    line = _UUID.sub("<uuid>", line)
    line = _TS.sub("<t>", line)
    return _PATH.sub("<tmp>", line).strip()


def command_items(stdout: bytes) -> list[dict[str, Any]]:
    """Each completed command as codex printed it: item id, status, exit code, output (cut to 200 chars);
    legacy ``exec_command_end`` messages likewise."""
    out: list[dict[str, Any]] = []
    for obj in stdout_objects(stdout):
        item, msg = obj.get("item"), obj.get("msg")
        if obj.get("type") == "item.completed" and isinstance(item, dict) and item.get("type") == "command_execution":
            out.append({"id": item.get("id"), "status": item.get("status"), "exit_code": item.get("exit_code"),
                        "output": str(item.get("aggregated_output", ""))[:200]})
        elif isinstance(msg, dict) and msg.get("type") == "exec_command_end":
            out.append({"id": msg.get("call_id"), "status": None, "exit_code": msg.get("exit_code"),
                        "output": (str(msg.get("stdout", "")) + str(msg.get("stderr", "")))[:200]})
    return out


def _stream_shapes(stdout: bytes) -> tuple[list[str], list[str], list[str]]:
    """Event types, item types and the last usage object's keys, in order of first appearance."""
    event_types: list[str] = []
    item_types: list[str] = []
    usage_keys: list[str] = []
    for obj in stdout_objects(stdout):
        msg = obj.get("msg")
        etype = msg.get("type") if isinstance(msg, dict) else obj.get("type")
        if isinstance(etype, str) and etype not in event_types:
            event_types.append(etype)
        item = obj.get("item")
        if isinstance(item, dict):
            itype = item.get("type") or item.get("item_type")
            if isinstance(itype, str) and itype not in item_types:
                item_types.append(itype)
        usage = obj.get("usage")
        if isinstance(usage, dict):
            usage_keys = list(usage)
    return event_types, item_types, usage_keys


def tool_turnaround_s(journal: Sequence[dict[str, Any]]) -> float | None:
    """Seconds from the first request the fake answered with a tool call to the next one carrying a
    tool output (journal times, ms resolution); None when the turn had no such pair."""
    call = next((i for i, e in enumerate(journal) if e.get("tool_called")), None)
    if call is None:
        return None
    follow = next((e for e in journal[call + 1:] if e.get("has_tool_output")), None)
    if follow is None:
        return None
    try:
        start, end = datetime.fromisoformat(journal[call]["time"]), datetime.fromisoformat(follow["time"])
    except (TypeError, KeyError, ValueError):
        return None
    return round((end - start).total_seconds(), 3)


def facts_of(result: LaneResult, *, journal: Sequence[dict[str, Any]], session_files: int, credential_setup: str,
             wall_s: float, model: str | None, model_source: str | None, model_catalog: Sequence[str],
             sandbox: str | None = None, cwd_files: Sequence[str] = ()) -> Facts:
    seam = result.seam
    event_types, item_types, usage_keys = _stream_shapes(seam.stdout if seam else b"")
    stderr = seam.stderr.decode("utf-8", "replace").splitlines() if seam else []
    return Facts(
        version_line=result.executable.version_line if result.executable else None,
        protocol=result.capabilities.protocol if result.capabilities else None,
        stream_protocol=result.mapped.protocol,
        flags=list(result.capabilities.flags) if result.capabilities else [],
        model=model, model_source=model_source, model_catalog=list(model_catalog),
        event_types=event_types, item_types=item_types, usage_keys=usage_keys,
        tools_declared=next((list(e.get("tools", [])) for e in journal if e.get("tools")), []),
        stderr=sorted({normalize_stderr_line(s) for s in stderr if s.strip()}),
        session_files=session_files,
        journal_credentials=sorted({str(e.get("credential")) for e in journal}),
        credential_setup=credential_setup,
        exit_code=seam.exit_code if seam else None,
        timed_out=bool(seam and seam.timed_out),
        thread_status=result.authority.thread_status,
        refused=result.refused,
        wall_s=round(wall_s, 3),
        sandbox=sandbox,
        commands=command_items(seam.stdout if seam else b""),
        cwd_files=sorted(cwd_files),
        calls=[str(e["call"]) for e in journal if e.get("call")],
        tool_calls=sum(1 for e in journal if e.get("tool_called")),
        tool_turnaround_s=tool_turnaround_s(journal),
    )
