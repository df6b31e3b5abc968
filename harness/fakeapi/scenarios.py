"""What the fake model answers, per scenario: the scenario registry and each world's responder.

The wire format they answer in (SSE events, output items, shell tool shapes, error bodies) is
:mod:`harness.fakeapi.wire`; the HTTP plumbing is :mod:`harness.fakeapi.handler`.

**The registry** (:data:`SCENARIOS`) is the one owner of the scenario vocabulary: each
:class:`Scenario` says how the fake answers (``respond``, given an :class:`Exchange` with the request
and ways to reply) and what a faithful run of a native build ends with (``outcome``), so the matrix,
the server and the contract suite all read the same entry. A new scenario is one entry here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from harness.fakeapi.wire import (
    INVALID_KEY_BODY,
    MISSING_KEY_BODY,
    RATE_LIMIT_BODY,
    SERVER_ERROR_BODY,
    TOOL_MARKER,
    ShellTool,
    created_event,
    message_item,
    pick_shell_tool,
    reasoning_item,
    tool_call_item,
    turn_events,
)

#: A slug no build's catalog holds (the ``unknown-model`` scenario's).
UNKNOWN_SLUG = "gpt-matrix-unknown"

# -- the registry ------------------------------------------------------------------------------------


class Exchange(Protocol):
    """One request as a scenario sees it, and the ways it can answer (implemented by the server)."""

    body: Mapping[str, Any]
    entry: dict[str, Any]  # the journal entry; a scenario may add facts (e.g. ``tool_called``)
    attempt: int  # 1 for the first request of this tag (cell run), 2 for the next, …
    tool_outputs: int  # tool results in the conversation so far (see the server's stored responses)

    def new_id(self, prefix: str) -> str: ...
    def message(self) -> dict[str, Any]: ...
    def send_json(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None: ...
    def send_sse(self, events: Sequence[Mapping[str, Any]]) -> None: ...
    def hang(self) -> None: ...
    def wait_released(self, cap_s: float) -> float: ...


@dataclass(frozen=True)
class TurnOutcome:
    """How a native build's run must end under a scenario: what the lane reports (thread status, exit
    code — None when only the lane's timeout ends it — and usage authority)."""

    status: str
    exit_code: int | None
    usage_authority: str


COMPLETED = TurnOutcome("completed", 0, "live-turn-completed")
FAILED = TurnOutcome("failed", 1, "none")
INTERRUPTED = TurnOutcome("interrupted", None, "none")


@dataclass(frozen=True)
class Scenario:
    """A fake world for one turn: how the fake answers, and how a faithful run ends in it.

    ``waits``: the fake never answers, so the run lasts until the lane's (short) hang timeout.
    ``model``: the slug the run uses instead of the one learned from the build (None: the learned one).
    ``refuses``: every request is answered 401, whatever the credential.
    ``variant``: how the harness launches codex in this world (None: plainly, found on PATH); the
    contract suite's :mod:`harness.suite.variants` implements each name.
    ``starts_codex``: False for a world where a faithful lane never starts codex (it must refuse first):
    such a world gets only the contract tests that name it.
    ``turn_within_s``: the world holds only when codex ended the turn this soon after the command ended
    (the journal's ``command_ended_at``; the harness sees the turn end on stdout): a run on a machine
    too loaded for that is staged again.
    """

    name: str
    respond: Callable[[Exchange], None]
    outcome: TurnOutcome
    description: str
    waits: bool = False
    model: str | None = None
    refuses: bool = False
    variant: str | None = None
    turn_within_s: float | None = None
    starts_codex: bool = True

    def turn_after_command_s(self, journal: Sequence[Mapping[str, Any]], turn_ended_at: float | None) -> float | None:
        """Seconds from the last command's end to the turn's end (None: no command ended, or no turn end)."""
        ended = [e["command_ended_at"] for e in journal if isinstance(e.get("command_ended_at"), int | float)]
        if not ended or turn_ended_at is None:
            return None
        return round(turn_ended_at - float(max(ended)), 3)

    def world_held(self, journal: Sequence[Mapping[str, Any]], turn_ended_at: float | None) -> bool:
        """False when codex ended the turn later than the scenario's world allows (see ``turn_within_s``)."""
        if self.turn_within_s is None:
            return True
        gap = self.turn_after_command_s(journal, turn_ended_at)
        return gap is None or gap <= self.turn_within_s

    @property
    def succeeds(self) -> bool:
        return self.outcome.status == "completed"


def _ok(ex: Exchange) -> None:
    ex.send_sse(turn_events(ex.new_id("resp"), [ex.message()]))


#: Longest the ``tool`` scenario holds the follow-up answer waiting for codex to print the command's
#: completion (the harness releases it as soon as the line appears on codex's stdout).
TOOL_RELEASE_CAP_S = 5.0

#: How long codex's unified exec (``exec_command``, 0.99+) waits for a command to exit before it
#: leaves the exit to a background watcher (``EARLY_EXIT_GRACE_PERIOD`` = 150 ms in codex's source).
#: A command that exits within it gets its ``item.completed`` printed at once; a longer one gets it
#: from the watcher, which 0.117.0–0.145.0 drop when the model's next answer ends the turn first.
#: Measured (``tests/benchmarks/race_threshold.py``: host, empty ``HOME``, one codex at a time, the
#: follow-up answered at once), 0.130.0 at load 3-4: ``sleep 0.05``–``sleep 0.14`` lost 0 of 38 runs,
#: ``sleep 0.15``–``sleep 0.3`` lost 24 of 24; 0.117.0 and 0.145.0 at load 4-5: ``sleep 0.14`` lost 1
#: and 3 of 10 (right at the grace, load decides), ``sleep 0.15`` and ``0.3`` lost 10 of 10 each;
#: 0.99.0, 0.116.0, 0.146.0, 0.160.0, 0.169.0 lost none of 60 each. Answering the follow-up 0.1 s
#: later (or holding it until the completion is printed, as ``tool`` does) saved it on every build.
COMPLETION_GRACE_S = 0.15
#: Duration of the slow commands (``tool``, ``tool-race``): twice the grace, so the command crosses it
#: on every run whatever the machine's load (load only lengthens a command), and as long as a real
#: command takes (a login shell reading a profile took 0.11 s here; ``git status``, a build, far more).
SLOW_COMMAND_S = 0.3
#: What the slow commands run: wait, then print the marker the contract tests look for and the moment
#: the command ended (bash's ``$EPOCHREALTIME``), so the fake knows how late its answer came.
SLOW_SCRIPT = f"sleep {SLOW_COMMAND_S}; echo {TOOL_MARKER} $EPOCHREALTIME"
#: After a command exits, codex's unified exec drains its output for ``TRAILING_OUTPUT_GRACE`` = 100 ms
#: before it prints the completion; 0.117–0.145 lose it when the turn ends first. The race is staged
#: only when the turn ended within this many seconds of the command's end (the fake answers at once;
#: a quiet machine ends the turn 10-40 ms after the command). On a machine so loaded that codex needs
#: longer to send the follow-up and read the answer, the completion may be printed: measured at load
#: 28 on 2 cores, 2 of 48 runs printed it although the fake answered within 25 ms of the command's end.
AT_ONCE_S = 0.08
_ENDED = re.compile(re.escape(TOOL_MARKER) + r" (\d{9,11}\.\d+)")
#: Tool calls the ``tool-race`` scenario makes in one turn: one, since a slow command answered at
#: once loses its completion on every run of an affected build (a race of the command's duration,
#: not of machine load).
RACE_CALLS = 1


#: What the ``write-file`` scenario's command writes into the run's working directory: a quick command
#: (a few ms, far below :data:`COMPLETION_GRACE_S`), so the matrix has the fast side of the grace too.
WRITE_FILE = "matrix-write.txt"
WRITE_SCRIPT = f"echo {TOOL_MARKER} > {WRITE_FILE}"


def command_ended_at(body: Mapping[str, Any]) -> float | None:
    """When the newest command in the request's tool outputs ended (epoch seconds it printed), if it did."""
    ended = _ENDED.findall(json.dumps(body.get("input")))
    return float(ended[-1]) if ended else None


def _note_lag(ex: Exchange) -> None:
    """Journal when the command ended (``command_ended_at``) and how long after it this answer leaves
    (``answer_lag_s``)."""
    ended = command_ended_at(ex.body)
    if ended is not None:
        ex.entry["command_ended_at"] = ended
        ex.entry["answer_lag_s"] = round(time.time() - ended, 3)


def _call_or_reply(ex: Exchange, calls: int, script: str | None = None) -> None:
    """Call the declared shell tool until ``calls`` results came back, then reply."""
    shape = pick_shell_tool(ex.body) if ex.tool_outputs < calls else None
    if shape is not None and script is not None:
        shape = shape.running(script)
    if shape is None:
        _note_lag(ex)
        item = ex.message()
    else:
        ex.entry["tool_called"] = shape.name
        item = tool_call_item(shape, ex.new_id("fc"), ex.new_id("call"))
    ex.send_sse(turn_events(ex.new_id("resp"), [item]))


def _tool(ex: Exchange) -> None:
    """First request: call the declared shell tool with the slow command (:data:`SLOW_SCRIPT`). The
    follow-up (it carries the output) is answered only once codex has printed the command's completion
    (or after TOOL_RELEASE_CAP_S), as a real model's latency lets it: 0.117–0.145 lose that event when
    the answer of a slow command arrives first, which ``tool-race`` tests on purpose."""
    if ex.entry["has_tool_output"]:
        ex.entry["held_s"] = ex.wait_released(TOOL_RELEASE_CAP_S)
    _call_or_reply(ex, 1, SLOW_SCRIPT)


def _write_file(ex: Exchange) -> None:
    """Like ``tool``, with a command that writes a file in the working directory: allowed in
    workspace-write and danger-full-access, refused by codex's sandbox in read-only."""
    if ex.entry["has_tool_output"]:
        ex.entry["held_s"] = ex.wait_released(TOOL_RELEASE_CAP_S)
    _call_or_reply(ex, 1, WRITE_SCRIPT)


def _tool_race(ex: Exchange) -> None:
    """The slow command (:data:`SLOW_SCRIPT`, past codex's exit grace), its follow-up answered at once:
    0.117.0–0.145.0 never print its completion (see :data:`COMPLETION_GRACE_S`)."""
    _call_or_reply(ex, RACE_CALLS, SLOW_SCRIPT)


def _flaky_stream(ex: Exchange) -> None:
    """The first response stream ends right after the message (no response.completed); then all is well."""
    if ex.attempt == 1:
        ex.send_sse([created_event(ex.new_id("resp")), {"type": "response.output_item.done", "item": ex.message()}])
    else:
        _ok(ex)


def _flaky_request(ex: Exchange) -> None:
    """The first request gets HTTP 500 (every build retries a 5xx; 429 handling differs by build)."""
    if ex.attempt == 1:
        ex.send_json(500, SERVER_ERROR_BODY)
    else:
        _ok(ex)


def _refuse(ex: Exchange) -> None:
    ex.send_json(401, INVALID_KEY_BODY if ex.entry["credential"] == "invalid" else MISSING_KEY_BODY)


def _server_error(ex: Exchange) -> None:
    ex.send_json(500, SERVER_ERROR_BODY)


def _rate_limited(ex: Exchange) -> None:
    ex.send_json(429, RATE_LIMIT_BODY, {"retry-after": "1"})


def _disconnect(ex: Exchange) -> None:
    ex.send_sse([created_event(ex.new_id("resp"))])  # EOF before response.completed


def _hang(ex: Exchange) -> None:
    ex.hang()


# -- worlds that reach the lane's rarer paths on purpose (issue 28) ----------------------------------
#
# Each is one more entry at the end of the registry. Some need the harness to launch codex differently
# (a wrapper in front of the real build, another way to find it, another log level): their ``variant``
# names that, and :mod:`harness.suite.variants` implements it, so the fake's side stays plain HTTP.

#: An output item type no build knows: the ``unknown-item`` scenario sends it beside its message.
UNKNOWN_ITEM_TYPE = "matrix_future_item"
#: Exit code of the wrapper in front of codex in ``exit-after-completed``: not codex's own (0 or 1).
WRAPPER_EXIT = 3
#: What the ``tool-timeout`` command writes into the run's working directory: the shell's pid, its
#: background child's pid and the shell's process group, so the contract can check each one is gone.
TIMEOUT_PIDS = "matrix-timeout.pids"
TIMEOUT_SCRIPT = f"sleep 300 & echo $$ $! $(cut -d' ' -f5 /proc/$$/stat) > {TIMEOUT_PIDS}; wait"
#: Extra call arguments that keep the command a running tool call past the lane's timeout: the shell
#: tools' own command timeout (10 s by default in older builds) and exec_command's yield time.
_LONG_CALL = {"timeout_ms": 120_000, "yield_time_ms": 30_000}


def _unknown_item(ex: Exchange) -> None:
    """An ok turn whose response also carries an output item of a type no build knows."""
    item = {"type": UNKNOWN_ITEM_TYPE, "id": ex.new_id("fut"), "status": "completed",
            "summary": "an output item type from a future API"}
    ex.send_sse(turn_events(ex.new_id("resp"), [item, ex.message()]))


def _tool_timeout(ex: Exchange) -> None:
    """Call the shell tool with a command that starts a child and waits for it; never answer the
    follow-up, so the lane's timeout ends the run while the command and its child may still run."""
    if ex.entry["has_tool_output"]:
        ex.hang()
        return
    shape = pick_shell_tool(ex.body)
    if shape is None:
        ex.send_sse(turn_events(ex.new_id("resp"), [ex.message()]))
        return
    shape = shape.running(TIMEOUT_SCRIPT)
    key = "timeout_ms" if shape.name in ("shell", "container.exec", "shell_command", "local_shell") else "yield_time_ms"
    shape = ShellTool(shape.name, shape.kind, {**shape.arguments, key: _LONG_CALL[key]})
    ex.entry["tool_called"] = shape.name
    ex.send_sse(turn_events(ex.new_id("resp"), [tool_call_item(shape, ex.new_id("fc"), ex.new_id("call"))]))


#: The ``retry-after-tool`` world's texts: each distinct, so an oracle can tell which one a row shows.
PREAMBLE_TEXT = "Let me check first."
CUT_TEXT = "an answer cut short: a retry supersedes it"
FINAL_TEXT = "Done: the command printed the marker."
THOUGHTS = ("reasoning before the tool call", "reasoning of the attempt that was cut", "reasoning of the retry")


def _retry_after_tool(ex: Exchange) -> None:
    """Reasoning, a preamble and a quick tool call; the first follow-up stream is cut after its reasoning
    and message; the retry sends others: the preamble must survive, the cut attempt's output vanish."""
    shape = pick_shell_tool(ex.body)
    if not ex.entry["has_tool_output"] and shape is not None:
        ex.entry["tool_called"] = shape.name
        ex.send_sse(turn_events(ex.new_id("resp"), [
            reasoning_item(ex.new_id("rs"), THOUGHTS[0]), message_item(ex.new_id("msg"), PREAMBLE_TEXT),
            tool_call_item(shape.running(f"echo {TOOL_MARKER}"), ex.new_id("fc"), ex.new_id("call"))]))
        return
    if ex.attempt == 2:  # the first follow-up: held until codex printed the command's end, then cut
        ex.entry["held_s"] = ex.wait_released(TOOL_RELEASE_CAP_S)
        ex.send_sse([created_event(ex.new_id("resp")),
                     *({"type": "response.output_item.done", "item": item} for item in (
                         reasoning_item(ex.new_id("rs"), THOUGHTS[1]), message_item(ex.new_id("msg"), CUT_TEXT)))])
        return
    ex.send_sse(turn_events(ex.new_id("resp"), [reasoning_item(ex.new_id("rs"), THOUGHTS[2]),
                                                message_item(ex.new_id("msg"), FINAL_TEXT)]))


#: The ``leftover-child`` command leaves a detached ``sleep`` (away from the tool's pipes, so no build
#: waits for it) and writes its pid into the run's working directory (see harness.lane.seam on who kills it).
LEFTOVER_TOOL_PID = "matrix-leftover-tool.pid"
LEFTOVER_SCRIPT = f"sleep 300 >/dev/null 2>&1 & echo $! > {LEFTOVER_TOOL_PID}; echo {TOOL_MARKER}"


def _leftover_child(ex: Exchange) -> None:
    """Like ``write-file``, with a command that leaves a detached background child."""
    if ex.entry["has_tool_output"]:
        ex.entry["held_s"] = ex.wait_released(TOOL_RELEASE_CAP_S)
    _call_or_reply(ex, 1, LEFTOVER_SCRIPT)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("ok", _ok, COMPLETED, "one assistant message, then response.completed with usage"),
    Scenario("tool", _tool, COMPLETED,
             f"the model runs `{SLOW_SCRIPT}` through the declared shell tool; the reply waits for its completion"),
    Scenario("write-file", _write_file, COMPLETED,
             f"the model runs `{WRITE_SCRIPT}` through the declared shell tool, then replies"),
    Scenario("tool-race", _tool_race, COMPLETED,
             f"the model runs `{SLOW_SCRIPT}` through the declared shell tool and replies at once",
             turn_within_s=AT_ONCE_S),
    Scenario("unknown-model", _ok, COMPLETED, "an ok turn with a model slug no build knows",
             model=UNKNOWN_SLUG),
    Scenario("flaky-stream", _flaky_stream, COMPLETED,
             "the first stream drops after the message item; codex's retry gets a normal answer"),
    Scenario("flaky-request", _flaky_request, COMPLETED, "the first request gets HTTP 500; the retry succeeds"),
    Scenario("unauthorized", _refuse, FAILED, "every request is refused with 401", refuses=True),
    Scenario("server-error", _server_error, FAILED, "every request gets HTTP 500, retries included"),
    Scenario("rate-limited", _rate_limited, FAILED, "every request gets HTTP 429 with retry-after, retries included"),
    Scenario("disconnect", _disconnect, FAILED, "every stream ends before response.completed, retries included"),
    Scenario("hang", _hang, INTERRUPTED, "the request is never answered", waits=True),
    Scenario("unknown-item", _unknown_item, COMPLETED,
             f"an ok turn whose response also carries an output item of type {UNKNOWN_ITEM_TYPE!r}"),
    Scenario("tool-timeout", _tool_timeout, INTERRUPTED,
             "the model runs a command that starts a child and waits; the follow-up is never answered",
             waits=True),
    Scenario("exit-after-completed", _ok, TurnOutcome("failed", WRAPPER_EXIT, "live-turn-completed"),
             f"an ok turn, run through a wrapper that exits {WRAPPER_EXIT} after codex exited 0",
             variant="wrap-exit"),
    Scenario("failed-exit-zero", _refuse, TurnOutcome("failed", 0, "none"),
             "every request is refused (401), run through a wrapper that exits 0 after codex exited",
             refuses=True, variant="wrap-exit-zero"),
    Scenario("future-events", _ok, COMPLETED,
             "an ok turn, run through a wrapper that adds an event type and an item type no build prints",
             variant="wrap-inject"),
    Scenario("discover-env", _ok, COMPLETED, "an ok turn; the lane finds codex through CODEX_CLI_PATH",
             variant="discover-env"),
    Scenario("discover-explicit", _ok, COMPLETED, "an ok turn; the lane is given codex's path explicitly",
             variant="discover-explicit"),
    Scenario("log-warn", _ok, COMPLETED, "an ok turn with RUST_LOG=warn (builds then log warnings on stderr)",
             variant="log-warn"),
    Scenario("tampered-rollout", _ok, COMPLETED,
             "an ok turn, run through a wrapper that appends another final text and cached count to the rollout",
             variant="wrap-tamper"),
    Scenario("retry-after-tool", _retry_after_tool, COMPLETED,
             "reasoning, a preamble message and a tool call; the follow-up stream is cut after its reasoning and "
             "message, and the retry sends other reasoning and a different final reply"),
    Scenario("leftover-child", _leftover_child, COMPLETED,
             "a command that leaves a detached child, run through a wrapper that leaves `sleep 300 &` (holding "
             "stdout) in codex's process group", variant="wrap-background"),
    Scenario("both-keys", _ok, COMPLETED,
             "an ok turn; CODEX_API_KEY holds the valid key, OPENAI_API_KEY an invalid one", variant="both-keys"),
    Scenario("blank-key", _ok, COMPLETED,
             "an ok turn; CODEX_API_KEY is whitespace only, the valid key is in auth.json", variant="blank-key"),
    Scenario("discover-missing", _ok, TurnOutcome("failed", None, "none"),
             "CODEX_CLI_PATH and the explicit path name no file, a decoy codex is first on PATH: the lane refuses",
             variant="discover-missing", starts_codex=False),
)}
SUCCESS_SCENARIOS: tuple[str, ...] = tuple(name for name, s in SCENARIOS.items() if s.succeeds)
#: The worlds that reach the lane's rarer paths (issue 28): matrix.yaml runs them on the codex-api-key
#: cells only, since what they reach does not depend on the credential.
REACH_SCENARIOS: tuple[str, ...] = ("unknown-item", "tool-timeout", "exit-after-completed", "failed-exit-zero",
                                    "future-events", "discover-env", "discover-explicit", "log-warn",
                                    "tampered-rollout", "retry-after-tool", "leftover-child", "both-keys",
                                    "blank-key", "discover-missing")
