"""The one place that hides secrets; every writer of logs, reports and artifacts goes through it.

Standard library only, because the contract suite uses it inside the per-version containers. Two
layers: exact known secrets are replaced wherever they appear (so a key echoed by a build in an
error message is caught too), and anything shaped like a credential (an ``sk-…`` key, a bearer token,
``api_key=…`` / ``OPENAI_API_KEY="…"`` assignments, a JWT) is masked as a safety net for secrets nobody
registered.

**Masking must never change what the data means.** A mask applied to serialised JSON can land next
to an escape (``\\"``) and eat the backslash, which ends the string early: the line stops being JSON,
and a reader drops it. So structured data is masked on its *parsed values*, string by string, and
serialised afterwards (:meth:`Redactor.value`, :meth:`Redactor.dumps`); text that may hold JSON lines
(codex's stdout, a transcript) is masked line by line, a line that parses as JSON through its values
(:meth:`Redactor.lines`). Plain ``__call__`` is for text that is not JSON (stderr, a message, a
rendered Markdown cell before escaping).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"
_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}")
#: ``api_key=abcd``, ``"OPENAI_API_KEY": "…"``, also with escaped quotes (``\\"api_key\\": \\"…\\"``, JSON
#: held in a string): the name and the separator stay, the value goes. The value stops at quotes, a
#: backslash, white space, JSON punctuation, a backtick, ``< > | & ;``: whatever closes a string, a code
#: span, a tag, a table cell or a shell word around it stays, so the text keeps its shape.
_ASSIGNED = re.compile(
    r"""(?i)((?:\\*")?(?:api[_-]?key|OPENAI_API_KEY|CODEX_API_KEY)(?:\\*")?\s*[:=]\s*(?:\\*["'])?)"""
    r"[^\"'\\\s,;}`<>|&]{4,}")
#: Names whose value is a credential whatever it looks like: in a parsed mapping (``{"OPENAI_API_KEY":
#: "…"}``, auth.json's tokens) the name and the value are two strings, so the value is masked by its name.
_SECRET_NAME = re.compile(r"(?i)(?:api[_-]?key|OPENAI_API_KEY|CODEX_API_KEY|access_token|refresh_token|id_token)")
#: A JSON Web Token (header and payload are base64url JSON objects, so both start with ``eyJ``).
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")


def _finite_float(text: str) -> float | str:
    """``1e400`` parses to inf, which JSON cannot hold: keep its digits (as the lane's reader does)."""
    value = float(text)
    return value if math.isfinite(value) else text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Redactor:
    """Replaces registered secrets and key-shaped strings; cheap enough to run on every artifact."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._longest_first: list[str] = []  # a secret that contains another is replaced first
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.add(secret)
            self._longest_first = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """Mask one piece of text. Not for serialised JSON: use :meth:`value`, :meth:`dumps` or :meth:`lines`."""
        for secret in self._longest_first:
            text = text.replace(secret, MASK)
        text = _KEY.sub(MASK, text)
        text = _JWT.sub(MASK, text)
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
        return _ASSIGNED.sub(lambda m: m.group(1) + MASK, text)

    def value(self, data: Any) -> Any:
        """A JSON-like structure with every string in it masked, dict keys included; the shape is kept.

        Lists and tuples come back as lists; numbers, booleans, None and other objects are returned as
        they are (serialise them with :meth:`dumps`, whose ``default`` masks what it renders).
        """
        if isinstance(data, str):
            return self(data)
        if isinstance(data, dict):
            return {self(k) if isinstance(k, str) else k: self._item(k, v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.value(v) for v in data]
        return data

    def _item(self, key: Any, value: Any) -> Any:
        """A mapping's value; a string under a credential's name (``api_key``, ``refresh_token``) is masked whole."""
        if isinstance(key, str) and isinstance(value, str) and len(value) >= 4 and _SECRET_NAME.fullmatch(key):
            return MASK
        return self.value(value)

    def dumps(self, data: Any, *, default: Callable[[Any], Any] | None = None, **kwargs: Any) -> str:
        """``json.dumps`` of the masked structure: masking happens before serialising, so the JSON is valid.

        A ``default`` (for objects JSON cannot hold) has its answer masked too.
        """
        masked_default = None if default is None else (lambda obj: self.value(default(obj)))
        return json.dumps(self.value(data), default=masked_default, **kwargs)

    def json_line(self, line: str) -> str:
        """One line of text: masked through its values when it is JSON, as text otherwise.

        A JSON line with nothing to mask is returned byte for byte; one with a secret inside is
        re-serialised compactly (codex's own layout), so it stays JSON and keeps its meaning.
        """
        if not line.strip():
            return line
        try:
            parsed = json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
        except (ValueError, RecursionError):
            return self(line)
        masked = self.value(parsed)
        if masked == parsed:
            return line
        out = json.dumps(masked, ensure_ascii=False, separators=(",", ":"))
        try:
            out.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (``"\\ud800"`` is valid JSON): keep it escaped
            out = json.dumps(masked, separators=(",", ":"))
        return out

    def lines(self, text: str) -> str:
        """Text of lines (stdout, a JSONL transcript, stderr), each through :meth:`json_line`; endings kept."""
        out = []
        for line in text.split("\n"):  # only "\n" ends a JSON line: U+2028 and friends may sit inside one
            body = line.removesuffix("\r")
            out.append(self.json_line(body) + line[len(body):])
        return "\n".join(out)

    def bytes(self, data: bytes) -> bytes:
        """Raw output (undecodable bytes replaced), line by line as :meth:`lines` does."""
        return self.lines(data.decode("utf-8", errors="replace")).encode("utf-8")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """One-off text redaction when no long-lived Redactor is at hand."""
    return Redactor(secrets)(text)
