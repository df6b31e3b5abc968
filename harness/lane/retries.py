"""Retried attempts within a turn: which assistant output a retry superseded.

When a response stream breaks after the model's message arrived, codex retries the request and the
new attempt streams the message again (a new ``agent_message`` item; the same legacy ``msg`` id on
≤0.42), with a retry notice in between: a top-level ``error`` event ``Reconnecting... 1/5 (…)``
(0.57+), ``Re-connecting... 1/5`` (0.47–0.55, found by running the default cells on builds between the
default eight), ``stream error: …; retrying 1/5 in 200ms…`` (0.44–0.45), or a legacy ``background_event`` of
the same text (measured on 0.20.0–0.169.0). A reader of the transcript must see the answer once, so the
assistant text and reasoning of an attempt that a retry notice ended are marked ``superseded`` (the
projection leaves them out; the notice's warning keeps their text for forensics). Usage needs no such
care: codex reports it once, from the ``response.completed`` of the attempt that succeeded.

An attempt starts at ``turn_started``, after each ``tool_completed`` (the tool output is sent in a new
request) and after each retry notice. Only ``turn.completed``/``turn.failed`` and the exit code decide
the status (:mod:`harness.lane.authority`); a notice never does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.lane.events import NormalizedEvent

#: Retry notices as codex prints them (top-level ``error`` events, legacy ``background_event``s).
RETRY_NOTICE = re.compile(r"^Re-?connecting\.\.\.|\bretrying \d+/\d+")
_ATTEMPT_START = frozenset({"turn_started", "tool_completed"})
_SUPERSEDABLE = frozenset({"assistant_text", "reasoning"})


def is_retry_notice(event: NormalizedEvent) -> bool:
    return (event.kind == "warning" and event.data.get("origin") in ("error-event", "retry")
            and bool(RETRY_NOTICE.search(str(event.data.get("text", "")))))


def supersede_retried(events: Sequence[NormalizedEvent]) -> list[NormalizedEvent]:
    """``events`` with each retried attempt's assistant output marked ``superseded``."""
    out = list(events)
    attempt: list[int] = []  # indexes of supersedable events in the current attempt
    for index, event in enumerate(out):
        if event.kind in _ATTEMPT_START:
            attempt = []
        elif event.kind in _SUPERSEDABLE:
            attempt.append(index)
        elif is_retry_notice(event):
            texts = []
            for i in attempt:
                out[i] = NormalizedEvent(out[i].kind, {**out[i].data, "superseded": True})
                texts.append(str(out[i].data.get("text", "")))
            out[index] = NormalizedEvent("warning", {**event.data, "origin": "retry", "superseded_text": texts})
            attempt = []
    return out


def live(events: Sequence[NormalizedEvent]) -> list[NormalizedEvent]:
    """The events a reader should see: everything but superseded assistant output."""
    return [e for e in events if not e.data.get("superseded")]
