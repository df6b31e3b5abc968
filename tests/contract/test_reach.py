"""Lane paths no plain run reaches, reached on purpose (issue 28): each scenario below makes codex, or
the way the harness launches it, take one path, and the test checks the lane against what the harness
did (:class:`~harness.suite.variants.VariantSetup`) or what codex printed.

* a wrapper's non-zero exit after ``turn.completed``, and ``turn.failed`` with exit code 0;
* the lane's timeout while a tool command and its child run: no process of any group survives;
* a normal exit that leaves a background child in codex's process group: nothing of the group survives,
  and the lane does not wait for the pipes the child holds;
* discovery through ``CODEX_CLI_PATH`` and an explicit path, with a decoy ``codex`` first on PATH, and
  a named path that holds nothing (refused, naming it; the decoy never runs, no request is sent);
* ``RUST_LOG=warn``: every stderr line keeps its source (the ephemeral backfill line is history);
* an output item type no build knows, sent by the fake; and unknown event/item types in the stream;
* a rollout edited after the run: hydration names each difference.
"""

from __future__ import annotations

import os
import re
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest

from harness.fakeapi.scenarios import LEFTOVER_TOOL_PID, TIMEOUT_PIDS, UNKNOWN_ITEM_TYPE, WRAPPER_EXIT
from harness.lane.projection import WARNING_SUBTYPE
from harness.lane.seam import DRAIN_GRACE_S
from harness.redact import Redactor
from harness.suite.cellrun import Outcome
from harness.suite.expectations import EXPECTATIONS
from harness.suite.oracle import printed, sent_items, sent_reply, sent_usage, stdout_objects
from harness.suite.variants import (
    CODEX_EXITED_AT,
    DECOY_RAN,
    DECOY_VERSION_LINE,
    LEFTOVER_PID,
    TAMPERED_CACHED_DELTA,
    TAMPERED_TEXT,
)

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")

#: The 0.117/0.118 stderr line about reading an ephemeral thread back (a history matter, not the process).
BACKFILL = re.compile(r"backfilling turn items")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Builds measured to print the backfill line on an ephemeral run with RUST_LOG=warn.
BACKFILL_BUILDS = ((0, 117), (0, 118))
#: How long the killed command's processes may take to be gone (reaped by the container's init).
GONE_WITHIN_S = 3.0


def _version(outcome: Outcome) -> tuple[int, ...]:
    return tuple(int(p) for p in outcome.cell.version.split("-")[0].split(".")[:3])


def _stdout(outcome: Outcome) -> bytes:
    seam = outcome.result.seam
    assert seam is not None, f"the lane did not run codex: {outcome.result.refused}"
    return seam.stdout


# -- exit codes ---------------------------------------------------------------------------------------


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("exit-after-completed")
def test_nonzero_exit_after_turn_completed_fails_the_thread(outcome: Outcome) -> None:
    stdout = _stdout(outcome)
    assert printed(stdout, "turn.completed"), "codex did not complete the turn: nothing to check"
    result = outcome.result
    assert result.seam is not None and result.seam.exit_code == WRAPPER_EXIT
    assert result.authority.thread_status == "failed"
    assert result.authority.status_reason == f"turn.completed but exit code {WRAPPER_EXIT}"
    assert result.authority.final_text is None, "a failed thread has no final answer"
    assert result.authority.usage_authority == "live-turn-completed"
    assert outcome.read.kept[-1]["level"] == "error"


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("failed-exit-zero")
def test_turn_failed_with_exit_zero_fails_the_thread(outcome: Outcome) -> None:
    stdout = _stdout(outcome)
    assert printed(stdout, "turn.failed"), "codex printed no turn.failed: nothing to check"
    result = outcome.result
    assert result.seam is not None and result.seam.exit_code == 0
    assert result.authority.thread_status == "failed"
    assert result.authority.status_reason.startswith("turn.failed: ")
    assert result.authority.usage_authority == "none"


# -- timeout with a running command -------------------------------------------------------------------


def _state(pid: int) -> str | None:
    """The process state letter, None when the pid is gone (a zombie counts as gone: it runs nothing)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    state = text.rpartition(")")[2].split()[0]
    return None if state in ("Z", "X") else state


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _in_group(pgid: int) -> list[int]:
    alive = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text(encoding="ascii", errors="replace").rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(name))
    return alive


@pytest.mark.kinds("answers_turns")
@pytest.mark.scenarios("tool-timeout")
def test_timeout_kills_the_command_and_its_children(outcome: Outcome) -> None:
    result = outcome.result
    if result.seam is None:
        pytest.skip(f"the lane refused the run: {result.refused}")
    refused = [e for e in outcome.turns if e.get("status") == 401]
    if refused and len(refused) == len(outcome.turns):  # 0.36-0.42 read no key from the environment
        pytest.skip(f"the API refused every request ({refused[0].get('credential')} credential): this build never "
                    "got to call the tool, so there was no command to time out")
    assert any(e.get("tool_called") for e in outcome.turns), "the fake model never called a tool"
    pids_file = Path(result.request.cwd) / TIMEOUT_PIDS
    assert pids_file.is_file(), f"codex never ran the command ({TIMEOUT_PIDS} missing): nothing was killed"
    assert result.seam.timed_out, "the run ended before the lane's timeout: the command was not running"
    shell, child, group = (int(p) for p in pids_file.read_text().split()[:3])
    deadline = time.monotonic() + GONE_WITHIN_S
    while True:
        survivors = {"shell": _state(shell), "child": _state(child)}
        grouped = {g: _in_group(g) for g in {group, result.seam.pid or group}}
        if not any(survivors.values()) and not any(grouped.values()):
            break
        assert time.monotonic() < deadline, (
            f"processes outlived the run's timeout: shell {shell} {survivors['shell']}, its child {child} "
            f"{survivors['child']}, groups {grouped} (codex's group is {result.seam.pid}, the command's {group})")
        time.sleep(0.1)
    assert result.authority.thread_status == "interrupted"


# -- leftovers of a normal exit ------------------------------------------------------------------------


@pytest.mark.kinds("starts_codex")
@pytest.mark.scenarios("leftover-child")
def test_normal_exit_leaves_nothing_of_codexs_group(outcome: Outcome) -> None:
    """The wrapper left ``sleep 300 &`` in codex's process group, holding its stdout, and codex exited
    normally: the lane kills what is left of the group and does not wait out its drain grace for pipes
    only that child holds. The tool command's own detached child is gone too, whoever ended it: codex
    (0.98+ kill a command's session when they exit), or the lane (0.44 runs commands in codex's group,
    0.80 in groups of codex's session, and leaves them running)."""
    result = outcome.result
    if result.seam is None:
        pytest.skip(f"the lane refused the run: {result.refused}")
    variant = outcome.variant
    assert variant is not None and variant.work is not None
    work = Path(variant.work)
    assert (work / LEFTOVER_PID).is_file(), "the wrapper never ran codex exec: nothing was left behind"
    assert not result.seam.timed_out, "the run timed out: this world is about a normal exit"
    child = int((work / LEFTOVER_PID).read_text().split()[0])
    deadline = time.monotonic() + GONE_WITHIN_S
    while (_state(child) is not None or _in_group(result.seam.pid or 0)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _state(child) is None, f"the background child {child} outlived the run (codex's group {result.seam.pid})"
    assert _in_group(result.seam.pid or 0) == [], f"processes of codex's group {result.seam.pid} outlived the run"
    tool_pid = Path(result.request.cwd) / LEFTOVER_TOOL_PID
    if tool_pid.is_file():  # the command's own detached child
        left = int(tool_pid.read_text().split()[0])
        while _state(left) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if _state(left) is not None and _session(left) not in (None, result.seam.pid):
            os.kill(left, signal.SIGKILL)  # the container outlives this test: leave nothing running
            pytest.skip(f"codex {outcome.cell.version} started the command in a session of its own and left its "
                        f"background child {left} running after it exited: once codex is gone no parent, group "
                        "or session links that process to the run, so no lane can end it (codex's leak)")
        assert _state(left) is None, f"the command's background child {left} outlived codex's normal exit"
    else:
        assert not any(e.get("tool_called") for e in outcome.turns), "the fake called the tool, yet it never ran"
    exited_at = float((work / CODEX_EXITED_AT).read_text().split()[0])
    ended_at = datetime.fromisoformat(result.seam.started_at).timestamp() + result.seam.duration_s
    assert ended_at - exited_at < DRAIN_GRACE_S, (
        f"the run ended {ended_at - exited_at:.2f} s after codex exited: it waited for the leftover's pipes")


# -- discovery ------------------------------------------------------------------------------------------


@pytest.mark.scenarios("discover-missing")
def test_named_path_that_holds_nothing_is_refused(outcome: Outcome) -> None:
    """CODEX_CLI_PATH names nothing and a decoy codex is first on PATH: the lane refuses, naming the path,
    runs nothing (not the decoy, not codex: no request reaches the API) and reports a failed thread."""
    result = outcome.result
    variant = outcome.variant
    assert variant is not None and variant.missing_path is not None and variant.work is not None
    assert result.executable is None, f"the lane found {result.executable} although the named path holds nothing"
    assert result.seam is None, "the lane ran a codex although the one it was told to use does not exist"
    assert result.refused is not None and variant.missing_path in result.refused, result.refused
    assert "CODEX_CLI_PATH" in result.refused, result.refused
    assert not (Path(variant.work) / "decoy" / DECOY_RAN).exists(), "the decoy codex on PATH was run"
    assert outcome.turns == [], f"{len(outcome.turns)} request(s) reached the API"
    assert result.authority.thread_status == "failed"
    final = outcome.read.kept[-1]
    assert final["codexNativeThreadStatus"] == "failed"
    assert final["codexNativeExecutablePath"] is None




@pytest.mark.scenarios("discover-env", "discover-explicit", "exit-after-completed", "future-events",
                       "leftover-child")
def test_executable_is_the_one_the_harness_named(outcome: Outcome) -> None:
    """The lane reports (and ran) the codex the harness named, not the decoy first on PATH."""
    variant = outcome.variant
    assert variant is not None and variant.executable_path is not None
    exe = outcome.result.executable
    assert exe is not None, f"the lane found no codex: {outcome.result.refused}"
    assert (exe.path, exe.source) == (variant.executable_path, variant.executable_source)
    assert exe.version_line == f"codex-cli {outcome.cell.version}" != DECOY_VERSION_LINE
    final = outcome.read.kept[-1]
    assert final["codexNativeExecutablePath"] == variant.executable_path
    assert final["codexNativeExecutableSource"] == variant.executable_source
    assert final["codexNativeExecutableVersion"] == exe.version_line


# -- stderr sources -------------------------------------------------------------------------------------


@pytest.mark.scenarios("log-warn")
def test_stderr_lines_keep_their_source(outcome: Outcome) -> None:
    """Each stderr line is one warning with its text; the backfill line is history, every other one
    process. 0.117/0.118 print the backfill line on every ephemeral run (measured), so there it must be."""
    result = outcome.result
    if result.seam is None:
        pytest.skip(f"the lane refused the run: {result.refused}")
    redact = Redactor([result.credential.key] if result.credential.key else [])
    stderr = redact.bytes(result.seam.stderr).decode("utf-8", "replace")
    lines = [_ANSI.sub("", line).rstrip() for line in stderr.split("\n")]
    lines = [line for line in lines if line.strip()]
    warned = [(str(w.data.get("text")), w.data.get("source")) for w in result.warnings
              if w.data.get("origin") == "stderr"]
    want = [(line, "history" if BACKFILL.search(line) else "process") for line in lines]
    assert warned == want
    rows = [r for r in outcome.read.kept if r.get("subtype") == WARNING_SUBTYPE]
    for text, source in want:
        assert any(r["content"] == text and r["codexNativeWarningSource"] == source for r in rows), (text, source)
    if (EXPECTATIONS[outcome.cell.expect].full_contract and outcome.cell.policy == "ephemeral"
            and _version(outcome)[:2] in BACKFILL_BUILDS):
        assert any(BACKFILL.search(line) for line in lines), f"no backfill line on stderr: {lines}"


# -- unknown types --------------------------------------------------------------------------------------

_KNOWN_ITEM_TYPES = frozenset({"agent_message", "assistant_message", "reasoning", "error", "command_execution",
                               "file_change", "mcp_tool_call", "web_search", "todo_list", "collab_tool_call"})


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("unknown-item")
def test_unknown_output_item_is_kept_or_its_loss_is_codexs(outcome: Outcome) -> None:
    """The API sent an item type no build knows. If codex prints an item of a type the lane does not
    map, the lane keeps it (unsupported_raw_event and a warning row); if codex drops it, that is
    codex's doing, said so by a skip naming what the stream showed."""
    assert any(i.get("type") == UNKNOWN_ITEM_TYPE for i in sent_items(outcome.turns)), "the fake sent no unknown item"
    stdout = _stdout(outcome)
    items = [o["item"] for o in stdout_objects(stdout) if isinstance(o.get("item"), dict)]
    unknown = [i for i in items if i.get("type") not in _KNOWN_ITEM_TYPES]
    kept = [e.data for e in outcome.result.mapped.events if e.kind == "unsupported_raw_event"]
    assert outcome.result.authority.final_text == sent_reply(outcome.turns)
    if not unknown:
        shown = sorted({str(i.get("type")) for i in items})
        pytest.skip(f"codex {outcome.cell.version} dropped the {UNKNOWN_ITEM_TYPE!r} output item the API sent: "
                    f"its stream shows item types {shown} only (the lane's side: test_unknown_types_are_kept)")
    for item in unknown:
        assert any(isinstance(k.get("payload"), dict) and k["payload"].get("item") == item for k in kept), item


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("future-events")
def test_unknown_types_are_kept(outcome: Outcome) -> None:
    """The event and the item of unknown types in the stream are kept whole: unsupported_raw_event with
    the object, a warning row carrying it in codexNativeRawEvent; the turn still completes."""
    variant = outcome.variant
    assert variant is not None and variant.injected
    stdout = _stdout(outcome)
    objects = list(stdout_objects(stdout))
    for injected in variant.injected:
        assert injected in objects, f"the wrapper's line is not in the stream: {injected}"
    kept = [e.data for e in outcome.result.mapped.events if e.kind == "unsupported_raw_event"]
    assert [k["payload"] for k in kept] == list(variant.injected), kept
    raw_rows = [r["codexNativeRawEvent"] for r in outcome.read.kept
                if r.get("subtype") == WARNING_SUBTYPE and r.get("codexNativeRawEvent")]
    assert [r["payload"] for r in raw_rows] == list(variant.injected)
    assert all(r["codexNativeWarningSource"] == "process" for r in outcome.read.kept
               if r.get("subtype") == WARNING_SUBTYPE and r.get("codexNativeRawEvent"))
    assert outcome.result.authority.thread_status == "completed"
    assert outcome.result.authority.final_text == sent_reply(outcome.turns)


# -- hydration against an edited rollout ----------------------------------------------------------------


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tampered-rollout")
def test_hydration_names_each_difference(outcome: Outcome) -> None:
    """The rollout was edited after the run (another final text, cached count + 100): a persistent run
    must not be hydrated, and a history warning names each difference with the API's numbers."""
    result = outcome.result
    assert outcome.variant is not None and outcome.variant.tampered
    if outcome.cell.policy == "ephemeral":
        assert result.authority.history_completeness == "live-only"
        return
    assert result.authority.thread_status == "completed", result.authority.status_reason
    assert result.authority.history_completeness == "explicit-hydration-required"
    history = [str(w.data.get("text")) for w in result.warnings if w.data.get("source") == "history"]
    sent = sent_usage(outcome.turns)
    reply = sent_reply(outcome.turns)
    for part in (f"final assistant text: live stream {reply!r}, rollout {TAMPERED_TEXT!r}",
                 f"usage cached: live stream {sent.cached}, rollout {sent.cached + TAMPERED_CACHED_DELTA}"):
        assert any(part in text for text in history), f"no history warning says {part!r}: {history}"
    assert not any("usage input:" in t or "usage output:" in t for t in history), history
