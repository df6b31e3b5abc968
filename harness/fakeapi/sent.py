"""What the fake API sent and received, reduced to the facts a contract test compares the lane with.

The fake world is the oracle: a contract test must judge the lane's usage, text, tool call and verdict
against what the API actually sent (and what codex sent back), never only against another output of
the lane. So every journal entry carries, beside the request facts (:mod:`harness.fakeapi.journal`):

* ``sent`` (an SSE answer): ``response_id``, ``usage`` (the usage object exactly as
  ``response.completed`` carried it, None when the stream ended before it) and ``items`` — one summary
  per ``response.output_item.done``: ``type``, ``id``, and ``text`` (a message's output text, a reasoning
  item's summary),
  ``name``/``call_id``/``arguments`` (a function call) or ``action`` (a local shell call);
* ``error`` (a JSON error answer): the error body's ``message``;
* ``tool_results`` (any request): the tool results codex sent back, as ``call_id`` and ``output`` text
  (cut to :data:`MAX_OUTPUT_CHARS`), so the command's output as the model saw it is known too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

#: Tool result text kept per result: enough for any contract check, small enough for the journal.
MAX_OUTPUT_CHARS = 4000
_TOOL_RESULT_TYPES = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output"})


def _message_text(item: Mapping[str, Any]) -> str:
    content = item.get("content")
    if not isinstance(content, list):
        return ""
    return "".join(str(c.get("text", "")) for c in content if isinstance(c, Mapping) and c.get("type") == "output_text")


def _reasoning_text(item: Mapping[str, Any]) -> str:
    parts = item.get("summary")
    if not isinstance(parts, list):
        return ""
    return "\n\n".join(str(p.get("text", "")) for p in parts if isinstance(p, Mapping))


def item_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    """One output item as the journal keeps it (see the module docstring)."""
    summary: dict[str, Any] = {"type": item.get("type"), "id": item.get("id")}
    if item.get("type") == "message":
        summary["text"] = _message_text(item)
    if item.get("type") == "reasoning":
        summary["text"] = _reasoning_text(item)
    for key in ("name", "call_id", "arguments", "action"):
        if key in item:
            summary[key] = copy.deepcopy(item[key])
    return summary


def sent_summary(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An SSE answer's response id, final usage (None without ``response.completed``) and output items."""
    response_id: str | None = None
    usage: Any = None
    items: list[dict[str, Any]] = []
    for event in events:
        response = event.get("response")
        if isinstance(response, Mapping) and response_id is None and isinstance(response.get("id"), str):
            response_id = response["id"]
        if event.get("type") == "response.completed" and isinstance(response, Mapping):
            usage = copy.deepcopy(response.get("usage"))
        item = event.get("item")
        if event.get("type") == "response.output_item.done" and isinstance(item, Mapping):
            items.append(item_summary(item))
    return {"response_id": response_id, "usage": usage, "items": items}


def error_message(body: bytes) -> str | None:
    """The ``error.message`` of an OpenAI-style JSON error body, else None."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    message = error.get("message") if isinstance(error, Mapping) else None
    return message if isinstance(message, str) else None


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):  # content parts
        return "".join(str(p.get("text", "")) for p in output if isinstance(p, Mapping))
    return json.dumps(output)


def tool_results(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool results a request carries back to the model: call id and output text (cut)."""
    items = body.get("input")
    if not isinstance(items, list):
        return []
    results = []
    for item in items:
        if isinstance(item, Mapping) and item.get("type") in _TOOL_RESULT_TYPES:
            text = _output_text(item.get("output"))
            results.append({"call_id": item.get("call_id"), "output": text[:MAX_OUTPUT_CHARS]})
    return results
