"""Reading an HTTP answer from the registry under an overall deadline, telling the ways it can go wrong apart.

A per-read socket timeout alone lets a mirror that trickles one byte every few seconds keep a fetch
going for hours, so every transfer (the packument and the tarball) also has an overall deadline
(:func:`deadline_s`, default 10 minutes, ``CODEX_MATRIX_DOWNLOAD_TIMEOUT`` overrides). Reads use
``read1`` (at most one ``recv``), so the deadline is checked at least once per socket timeout.

Three failures a user fixes differently get their own message: a deadline that passed (slow mirror),
a connection cut short before the announced length (proxy, flaky network: retry), and an answer that
is not what an npm registry sends (an HTML login page: wrong URL) — none of them is "corrupt or
tampered", which is kept for a complete download whose digest differs.
"""

from __future__ import annotations

import http.client
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import UserError

DEADLINE_ENV = "CODEX_MATRIX_DOWNLOAD_TIMEOUT"
DEFAULT_DEADLINE_S = 600.0
READ_TIMEOUT_S = 30.0  # one silent socket read; the overall deadline bounds the whole transfer
CHUNK = 1 << 20


def deadline_s() -> float:
    """Seconds one transfer may take: ``$CODEX_MATRIX_DOWNLOAD_TIMEOUT`` or 10 minutes."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0 or value > 7 * 86400:
        raise UserError(f"{DEADLINE_ENV}={raw[:20]!r} is not a number of seconds: set it to e.g. 1200, or unset it")
    return value


@dataclass
class Deadline:
    seconds: float
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def socket_timeout(self) -> float:
        """Per-read timeout: never longer than what is left (but long enough to connect at all)."""
        return max(1.0, min(READ_TIMEOUT_S, self.seconds - self.elapsed))

    @property
    def passed(self) -> bool:
        return self.elapsed > self.seconds


class TransferError(UserError):
    """A transfer that did not complete: too slow, cut short, or not an npm answer."""


def too_slow(what: str, url: str, got: int, total: int | None, deadline: Deadline) -> TransferError:
    size = f"{got / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{got / 1e6:.1f} MB"
    return TransferError(
        f"{what} from {url} took longer than {deadline.seconds:.0f} s ({size} received): the registry or "
        f"mirror is too slow; retry, allow longer with {DEADLINE_ENV}=SECONDS, or use another registry "
        "(NPM_CONFIG_REGISTRY)"
    )


def cut_short(what: str, url: str, got: int, total: int | None) -> TransferError:
    size = f"{got} of {total} bytes" if total else f"after {got} bytes"
    return TransferError(
        f"the connection was cut short during {what} from {url} ({size}): retry; if it keeps happening, "
        "a proxy or the mirror is dropping connections (try another NPM_CONFIG_REGISTRY)"
    )


def read_all(response: http.client.HTTPResponse, *, what: str, url: str, deadline: Deadline,
             sink: Callable[[bytes], None], limit: int | None = None) -> int:
    """Feed the body to ``sink`` chunk by chunk; returns its size.

    Raises :class:`TransferError` when the deadline passes, when the body ends before its
    ``Content-Length``, or when it grows past ``limit`` bytes.
    """
    length_header = response.headers.get("Content-Length")
    total = int(length_header) if length_header and length_header.isdigit() else None
    got = 0
    while True:
        if deadline.passed:
            raise too_slow(what, url, got, total, deadline)
        try:
            chunk = response.read1(CHUNK)
        except http.client.IncompleteRead as exc:  # chunked encoding that stopped mid-chunk
            raise cut_short(what, url, got + len(exc.partial), total) from None
        except TimeoutError:
            if deadline.passed:
                raise too_slow(what, url, got, total, deadline) from None
            raise
        if not chunk:
            break
        got += len(chunk)
        if limit is not None and got > limit:
            raise TransferError(f"{what} from {url} is larger than {limit // (1 << 20)} MiB, which no npm "
                                "answer for it is: NPM_CONFIG_REGISTRY must point at an npm registry")
        sink(chunk)
    if total is not None and got < total:
        raise cut_short(what, url, got, total)
    return got
