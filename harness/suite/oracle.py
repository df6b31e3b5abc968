"""The truth a contract test compares the lane with: what the fake API sent (its journal) and what codex
printed (its raw stdout, parsed here independently of the lane's mapper).

Why a module of its own: a contract test that checks the lane only against another output of the lane
(the projection against the authority, hydration against the live stream) cannot see a bug both share,
such as a usage key the lane reads under a wrong name (both then say 0). Everything here is derived
from the fake world or from codex's bytes, never from :mod:`harness.lane`.

Codex's ``turn.completed`` usage is the sum over the turn's responses that completed (a tool turn of
two responses reports twice the input), with the OpenAI usage object mapped as ``input_tokens`` → input,
``input_tokens_details.cached_tokens`` → cached, ``output_tokens`` → output,
``output_tokens_details.reasoning_tokens`` → reasoning (printed from about 0.125) and
``input_tokens_details.cache_write_tokens`` → cache write (printed from about 0.145): the contract tests
built on this passed on 0.117.0 and 0.169.0 (2026-12-06); legacy builds (0.20.0) print one
``token_count`` per request, which add up to the same sums.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: codex's ``turn.completed`` usage keys for the optional counts, by the lane's field name.
OPTIONAL_USAGE_KEYS = {"reasoning": "reasoning_output_tokens", "cache_write": "cache_write_input_tokens"}


@dataclass(frozen=True)
class SentUsage:
    """The usage the API sent, summed over the turn's completed responses."""

    input: int
    cached: int
    output: int
    reasoning: int
    cache_write: int
    responses: int


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def completed_responses(turns: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """What the API sent in each answer that reached ``response.completed``, in order."""
    return [e["sent"] for e in turns if e.get("completed") and isinstance(e.get("sent"), Mapping)]


def sent_usage(turns: Sequence[Mapping[str, Any]]) -> SentUsage:
    """The journal's usage of the completed responses, summed as codex sums a turn."""
    totals = dict.fromkeys(("input", "cached", "output", "reasoning", "cache_write"), 0)
    sent = completed_responses(turns)
    for response in sent:
        usage = response.get("usage") or {}
        details_in = usage.get("input_tokens_details") or {}
        details_out = usage.get("output_tokens_details") or {}
        totals["input"] += _int(usage.get("input_tokens"))
        totals["cached"] += _int(details_in.get("cached_tokens"))
        totals["output"] += _int(usage.get("output_tokens"))
        totals["reasoning"] += _int(details_out.get("reasoning_tokens"))
        totals["cache_write"] += _int(details_in.get("cache_write_tokens"))
    return SentUsage(**totals, responses=len(sent))


def sent_items(turns: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every output item the API sent in completed responses, in order."""
    return [item for response in completed_responses(turns) for item in response.get("items") or []]


def sent_texts(turns: Sequence[Mapping[str, Any]], item_type: str = "message") -> list[str]:
    """The text of every item of ``item_type`` (``message``; ``reasoning``: its summary) the API sent in
    completed responses, in order: what a transcript must show, once each. An attempt a retry superseded
    never completed, so its items are not here."""
    return [str(i.get("text", "")) for i in sent_items(turns) if i.get("type") == item_type]


def sent_reply(turns: Sequence[Mapping[str, Any]]) -> str | None:
    """The text of the last message the API sent in a completed response: the turn's final answer."""
    texts = sent_texts(turns)
    return texts[-1] if texts else None


def sent_tool_calls(turns: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The tool calls the API sent (function calls and local shell calls)."""
    return [i for i in sent_items(turns) if i.get("type") in ("function_call", "local_shell_call")]


def returned_tool_outputs(turns: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each tool output codex sent back to the API (the last copy of each call id), decoded to the
    command's text where codex wraps it (``shell``'s JSON ``{"output": …}``)."""
    by_call: dict[str, str] = {}
    for entry in turns:
        for result in entry.get("tool_results") or []:
            text = str(result.get("output", ""))
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, Mapping) and isinstance(decoded.get("output"), str):
                text = decoded["output"]
            by_call[str(result.get("call_id"))] = text
    return list(by_call.values())


def journal_verdict(turns: Sequence[Mapping[str, Any]]) -> str | None:
    """How the turn ended as far as the API can tell: ``interrupted`` (its last request was never
    answered), ``failed`` (answered with an error or a stream cut before ``response.completed``),
    ``completed`` (a completed response with a message ended it); None when no request reached it."""
    if not turns:
        return None
    last = turns[-1]
    if last.get("status") is None:
        return "interrupted"
    if last.get("status") != 200 or not last.get("completed"):
        return "failed"
    sent = last.get("sent") or {}
    if any(i.get("type") in ("function_call", "local_shell_call") for i in sent.get("items") or []):
        return "interrupted"  # a tool call the model still waits on: only a timeout ends such a run
    return "completed"


def stdout_objects(stdout: bytes) -> Iterator[dict[str, Any]]:
    """codex's ``--json`` lines that are JSON objects, in order (other lines are skipped)."""
    for raw in stdout.splitlines():
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


def printed(stdout: bytes, event_type: str) -> list[dict[str, Any]]:
    """The events of one type codex printed."""
    return [o for o in stdout_objects(stdout) if o.get("type") == event_type]


def printed_usage(stdout: bytes) -> dict[str, Any] | None:
    """The usage object of codex's last ``turn.completed``, as printed."""
    done = [o for o in printed(stdout, "turn.completed") if isinstance(o.get("usage"), dict)]
    return done[-1]["usage"] if done else None
