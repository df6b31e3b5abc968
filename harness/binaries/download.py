"""Stream a tarball to disk while hashing it, and check the registry's SRI integrity before anyone unpacks it.

urllib (stdlib) is used rather than ``requests``: the download is one streamed GET, urllib honours the
usual ``https_proxy`` variables, and the binaries layer then carries no dependency of its own.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path

from harness.binaries import transfer
from harness.binaries.registry import USER_AGENT, unreachable
from harness.errors import UserError, from_os_error
from harness.progress import NullProgress, Progress

# Strongest first: npm itself compares the strongest algorithm both sides know.
_ALGORITHMS = ("sha512", "sha384", "sha256")


def parse_integrity(integrity: str) -> tuple[str, bytes]:
    """The strongest ``algo-base64`` entry of an SRI string (npm may list several, space separated)."""
    entries: dict[str, bytes] = {}
    for token in integrity.split():
        algo, _, b64 = token.partition("-")
        if algo in _ALGORITHMS and b64:
            try:
                entries.setdefault(algo, base64.b64decode(b64.split("?")[0], validate=True))
            except ValueError:
                continue
    for algo in _ALGORITHMS:
        if algo in entries:
            return algo, entries[algo]
    raise UserError(
        f"unsupported integrity {integrity[:40]!r} in the npm metadata: "
        "use a registry that publishes sha512 integrity (e.g. https://registry.npmjs.org/)"
    )


def download(url: str, dest: Path, integrity: str, *, registry: str, label: str,
             progress: Progress | None = None) -> int:
    """Write ``url`` to ``dest`` and verify ``integrity``; returns the byte count.

    On any failure the partial file is deleted before raising, so nothing unverified survives. The
    whole transfer is bounded by :func:`transfer.deadline_s`.
    """
    progress = progress or NullProgress()
    algo, expected = parse_integrity(integrity)
    digest = hashlib.new(algo)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    deadline = transfer.Deadline(transfer.deadline_s())
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=deadline.socket_timeout()) as response, \
                dest.open("wb") as out:
            length = response.headers.get("Content-Length")
            progress.start(f"download {label}", int(length) if length and length.isdigit() else None)

            def sink(chunk: bytes) -> None:
                digest.update(chunk)
                out.write(chunk)
                progress.advance(len(chunk))

            size = transfer.read_all(response, what=f"downloading {label}", url=url, deadline=deadline, sink=sink)
    except transfer.TransferError:
        dest.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        dest.unlink(missing_ok=True)
        raise UserError(
            f"downloading {label} from {url} failed with HTTP {exc.code}: retry, or set "
            "NPM_CONFIG_REGISTRY to a mirror that serves the tarball"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        dest.unlink(missing_ok=True)
        raise unreachable(registry, exc) from None
    except OSError as exc:
        dest.unlink(missing_ok=True)
        if from_os_error(exc) is None:
            raise unreachable(registry, exc) from None
        raise UserError(
            f"cannot write {dest}: {exc.strerror or exc}: free disk space or set CODEX_MATRIX_CACHE "
            "(or --cache-dir) to a writable directory"
        ) from None
    if digest.digest() != expected:
        dest.unlink(missing_ok=True)
        got = base64.b64encode(digest.digest()).decode()[:16]
        want = base64.b64encode(expected).decode()[:16]
        raise UserError(
            f"integrity mismatch for {label}: registry says {algo}-{want}…, "
            f"downloaded bytes are {algo}-{got}…: the tarball or mirror is corrupt or tampered, "
            "retry or use another registry (NPM_CONFIG_REGISTRY)"
        )
    progress.done(f"{size / 1e6:.1f} MB, {algo} verified")
    return size
