"""The Responses API's wire, as codex's client reads it: SSE framing, output items, shell tool shapes,
usage and error bodies, and what a request carries (its declared tools, its tool results).

Kept apart from the scenarios (what the fake chooses to answer) and the HTTP plumbing so the wire
rules of codex's Responses client (facts §3.3) live in one place: ``response.completed`` must carry
``response.id`` and, when usage is sent, ``total_tokens``; an assistant message only reaches ``--json``
through ``response.output_item.done``.

The ``tool`` scenarios have to call a shell tool the build actually *declared*: codex answers a call to
an undeclared tool with an error output instead of running it, and the shell tool's name and argument
shape changed across releases (and with model metadata), so the fake reads the request's ``tools``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Token counts chosen so every mapped field is distinct and non-zero (11 = 3 cached + 8 fresh, ...).
#: ``cache_write_tokens`` is read by 0.145+ and ignored (not rejected) by every older tested build.
USAGE: dict[str, Any] = {
    "input_tokens": 11,
    "input_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 4},
    "output_tokens": 7,
    "output_tokens_details": {"reasoning_tokens": 2},
    "total_tokens": 18,
}

#: What the tool call runs; contract tests look for this text in the command's output.
TOOL_MARKER = "matrix-tool-ok"

#: Request input item types that carry a tool result back to the model (any shell tool shape).
_TOOL_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output"})


@dataclass(frozen=True)
class ShellTool:
    """A shell tool shape some build declares, and the call item that makes it echo the marker."""

    name: str  # the journal's ``tool_called`` value
    kind: str  # declared ``type`` in the request's tools list
    arguments: Mapping[str, Any]

    def running(self, script: str) -> ShellTool:
        """The same tool asked to run a shell ``script`` (argv-shaped tools get ``bash -lc script``)."""
        key, value = next(iter(self.arguments.items()))
        return ShellTool(self.name, self.kind, {key: ["bash", "-lc", script] if isinstance(value, list) else script})


#: Every shell tool shape observed in 0.20.0-0.169.0 requests (which one depends on build and model):
#: ``shell`` (<=0.98, unknown model), ``exec_command`` (0.99+), ``shell_command`` (e.g. 0.80 with
#: gpt-5-codex), ``local_shell`` (codex-mini-latest). ``container.exec`` is an alias codex accepts for
#: ``shell`` but no build declares it, so it is only matched if a build ever does.
SHELL_TOOLS: tuple[ShellTool, ...] = (
    ShellTool("shell", "function", {"command": ["echo", TOOL_MARKER]}),
    ShellTool("container.exec", "function", {"command": ["echo", TOOL_MARKER]}),
    ShellTool("exec_command", "function", {"cmd": f"echo {TOOL_MARKER}"}),
    ShellTool("shell_command", "function", {"command": f"echo {TOOL_MARKER}"}),
    ShellTool("local_shell", "local_shell", {"command": ["echo", TOOL_MARKER]}),
)


def declared_tool_names(body: Mapping[str, Any]) -> list[str]:
    """The request's tool names in order; a tool without ``name`` (``local_shell``, ``web_search``) shows its type."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    names: list[str] = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        label = tool.get("name") or tool.get("type")
        names.append(str(label) if label is not None else "?")
    return names


def has_tool_output(body: Mapping[str, Any]) -> bool:
    """True when the request returns a tool result, i.e. this is the turn's follow-up request."""
    items = body.get("input")
    if not isinstance(items, list):
        return False
    return any(isinstance(item, dict) and item.get("type") in _TOOL_OUTPUT_TYPES for item in items)


def pick_shell_tool(body: Mapping[str, Any]) -> ShellTool | None:
    """The first declared tool (in request order) that is a known shell tool shape, else None."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return None
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        for shape in SHELL_TOOLS:
            if shape.kind == "local_shell":
                if tool.get("type") == "local_shell":
                    return shape
            elif tool.get("type") == shape.kind and tool.get("name") == shape.name:
                return shape
    return None


def sse_event(event: Mapping[str, Any]) -> bytes:
    """One server-sent event in the ``event: <type>`` + ``data: <json>`` framing codex parses."""
    return f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


def created_event(response_id: str) -> dict[str, Any]:
    """``response.created``: optional for codex, but real servers always send it first."""
    return {"type": "response.created", "response": {"id": response_id}}


def message_item(item_id: str, text: str) -> dict[str, Any]:
    """An assistant message output item: the only source of ``agent_message`` in ``--json``."""
    return {
        "type": "message",
        "role": "assistant",
        "id": item_id,
        "content": [{"type": "output_text", "text": text}],
    }


def reasoning_item(item_id: str, summary: str) -> dict[str, Any]:
    """A reasoning output item with one summary part: what codex prints as a ``reasoning`` item."""
    return {"type": "reasoning", "id": item_id, "summary": [{"type": "summary_text", "text": summary}]}


def tool_call_item(shape: ShellTool, item_id: str, call_id: str) -> dict[str, Any]:
    """The output item that asks codex to run ``shape`` with the marker command."""
    if shape.kind == "local_shell":
        return {
            "type": "local_shell_call",
            "id": item_id,
            "call_id": call_id,
            "status": "completed",
            "action": {"type": "exec", **shape.arguments},
        }
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": shape.name,
        "arguments": json.dumps(shape.arguments),
    }


def turn_events(response_id: str, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A complete successful response: created, each item done, completed with usage."""
    events: list[dict[str, Any]] = [created_event(response_id)]
    events.extend({"type": "response.output_item.done", "item": dict(item)} for item in items)
    events.append({"type": "response.completed", "response": {"id": response_id, "usage": USAGE}})
    return events


def error_body(message: str, type_: str, code: str | None) -> bytes:
    """An OpenAI-style JSON error body."""
    return json.dumps({"error": {"message": message, "type": type_, "code": code}}).encode()


MISSING_KEY_BODY = error_body(
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    "invalid_request_error",
    "invalid_api_key",
)
INVALID_KEY_BODY = error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key")
SERVER_ERROR_BODY = error_body("The server had an error while processing your request.", "server_error", None)
RATE_LIMIT_BODY = error_body("Rate limit reached", "requests", "rate_limit_exceeded")
NOT_FOUND_BODY = error_body("Unknown path: use POST /s/<scenario>/<tag>/v1/responses", "invalid_request_error", None)


def tool_outputs(body: Mapping[str, Any]) -> int:
    """How many tool results the request carries: every one of the turn when codex resends the whole
    turn (0.20+), only the newest when it continues a stored response (0.8.0, ``previous_response_id``)."""
    items = body.get("input")
    if not isinstance(items, list):
        return 0
    return sum(1 for item in items if isinstance(item, dict) and item.get("type") in _TOOL_OUTPUT_TYPES)
