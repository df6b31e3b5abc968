"""Secrets out of what a lane run keeps, after the run was understood.

The lane used to mask codex's raw stdout before parsing it. A mask next to an escaped quote ate the
backslash, so a valid line whose agent text was ``echo "api_key=abcd"`` stopped being JSON, was
dropped as a non-JSON line, and the run reported ``completed`` with no final text. Now the stream is
parsed (and judged: authority, hydration) as codex printed it, and only what the run keeps — events
with their texts and raw payloads, warnings, the verdict's texts, hydration notes — is masked, value
by value, with :class:`harness.redact.Redactor`. Non-JSON stdout lines reach here as warning texts,
so they are masked as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from harness.lane.authority import Authority
from harness.lane.events import NormalizedEvent
from harness.lane.hydration import HydrationResult
from harness.lane.mapper import MappedStream
from harness.redact import Redactor


def mask_event(event: NormalizedEvent, redact: Redactor) -> NormalizedEvent:
    """The event with every string in its data masked (texts, commands, outputs, raw payloads)."""
    return NormalizedEvent(event.kind, redact.value(event.data))


def mask_events(events: Iterable[NormalizedEvent], redact: Redactor) -> tuple[NormalizedEvent, ...]:
    return tuple(mask_event(e, redact) for e in events)


def mask_stream(mapped: MappedStream, redact: Redactor) -> MappedStream:
    return replace(mapped, events=mask_events(mapped.events, redact))


def mask_authority(authority: Authority, redact: Redactor) -> Authority:
    """The verdict's texts masked; statuses and usage are vocabulary and numbers, left as they are."""
    def text(value: str | None) -> str | None:
        return None if value is None else redact(value)

    return replace(authority, thread_id=text(authority.thread_id), final_text=text(authority.final_text),
                   status_reason=redact(authority.status_reason))


def mask_hydration(hydration: HydrationResult | None, redact: Redactor) -> HydrationResult | None:
    """Hydration notes quote the live and the persisted final text: masked like every other text."""
    if hydration is None:
        return None
    return replace(hydration, warnings=tuple(redact(w) for w in hydration.warnings))
