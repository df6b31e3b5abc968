"""The one place that hides secrets; every writer of logs, reports and artifacts goes through it.

Standard library only, because the contract suite uses it inside the per-version containers. Two
layers: exact known secrets are replaced wherever they appear (so a key echoed by a build in an
error message is caught too), and anything shaped like an API key or a bearer token is masked as a
safety net for secrets nobody registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(r'(?i)("?(?:api[_-]?key|OPENAI_API_KEY|CODEX_API_KEY)"?\s*[:=]\s*"?)[^"\s,}]{4,}'),
)


class Redactor:
    """Replaces registered secrets and key-shaped strings; cheap enough to run on every artifact."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        text = _PATTERNS[0].sub(MASK, text)
        text = _PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)
        return _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)

    def bytes(self, data: bytes) -> bytes:
        return self(data.decode("utf-8", errors="replace")).encode("utf-8")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """One-off redaction when no long-lived Redactor is at hand."""
    return Redactor(secrets)(text)
