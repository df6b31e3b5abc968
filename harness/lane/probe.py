"""What a codex build can do, learned without a network call: its exec flags and its stream protocol.

**Flags** come from ``codex exec --help``: only the long flag that *starts* an option line counts, so a
flag merely mentioned in some description (``--sandbox workspace-write`` in ``--full-auto``'s text)
is not mistaken for one the build has.

**Protocol** — whether ``--json`` prints ThreadEvent lines (``thread.started``, ``turn.completed`` …)
or the legacy ``{"id","msg"}`` stream — is decided from the version, cross-checked with the help
text, because running a turn to find out would need a model endpoint:

* ``codex --version`` ≥ 0.44.0 → ``thread-events``; < 0.44.0 → ``legacy``. The legacy writer was removed
  by openai/codex#4525 between 0.42.0 and 0.44.0 (0.43.0 was never published on npm), and 0.42.0 still
  prints the legacy stream under ``--json`` (measured).
* ``--experimental-json`` listed as its own option (0.42.0 only; from 0.44 it is a hidden alias) →
  ``legacy`` whatever the version says: a build that still offers the draft format next to ``--json``
  is pre-removal.
* No parseable version: ``--ephemeral`` in the help (0.99+) → ``thread-events``; otherwise ``unknown``,
  which the resolver treats as not proven, i.e. degraded.

Results are cached per binary sha256 (in process, and optionally as JSON files in ``cache_dir``): the
same bytes always answer the same, wherever they are installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness.lane.events import Protocol
from harness.lane.executable import Executable, release_of
from harness.lane.quickrun import quick_output

#: First release whose ``--json`` prints ThreadEvent lines.
THREAD_EVENTS_SINCE = (0, 44, 0)
_HELP_TIMEOUT_S = 20.0
#: clap's long help: ``  -c, --config <key=value>`` or ``      --json``; descriptions sit deeper (10 spaces).
_OPTION_LINE = re.compile(r"^(?:  -[A-Za-z0-9], |      )(--[a-z0-9][a-z0-9-]*)")
_CACHE_FORMAT = 1

_by_digest: dict[str, Capabilities] = {}
_digest_by_file: dict[tuple[int, int, int, int], str] = {}


@dataclass(frozen=True)
class Capabilities:
    """Long flags of ``codex exec`` and the stream protocol of ``--json``."""

    flags: tuple[str, ...]
    protocol: Protocol
    supports_ephemeral: bool


def parse_help_flags(help_text: str) -> tuple[str, ...]:
    """Long flags that open an option line of clap's help, sorted and unique."""
    found = {m[1] for line in help_text.splitlines() if (m := _OPTION_LINE.match(line))}
    return tuple(sorted(found))


def decide_protocol(version: str | None, flags: tuple[str, ...]) -> Protocol:
    """The rule in the module docstring; pure so it can be tested on recorded help texts."""
    if "--experimental-json" in flags:
        return "legacy"
    parsed = release_of(version)
    if parsed is not None:
        return "thread-events" if parsed >= THREAD_EVENTS_SINCE else "legacy"
    return "thread-events" if "--ephemeral" in flags else "unknown"


def capabilities_from_help(version: str | None, help_text: str) -> Capabilities:
    flags = parse_help_flags(help_text)
    return Capabilities(
        flags=flags,
        protocol=decide_protocol(version, flags),
        supports_ephemeral="--ephemeral" in flags,
    )


def file_sha256(path: str) -> str:
    """sha256 of the file's bytes, remembered per (device, inode, size, mtime) to hash 280 MB once."""
    st = os.stat(path)
    file_id = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _digest_by_file.get(file_id)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    _digest_by_file[file_id] = digest.hexdigest()
    return _digest_by_file[file_id]


def read_exec_help(path: str) -> str | None:
    """``<path> exec --help`` (see :mod:`harness.lane.quickrun`); None on failure."""
    return quick_output([path, "exec", "--help"], _HELP_TIMEOUT_S)


def _cache_file(cache_dir: Path, digest: str) -> Path:
    return cache_dir / f"codex-probe-{digest}.json"


def _load_cached(cache_dir: Path, digest: str) -> Capabilities | None:
    try:
        raw = json.loads(_cache_file(cache_dir, digest).read_text(encoding="utf-8"))
        if raw.get("format") != _CACHE_FORMAT:
            return None
        return Capabilities(
            flags=tuple(str(f) for f in raw["flags"]),
            protocol=raw["protocol"],
            supports_ephemeral=bool(raw["supports_ephemeral"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _store_cached(cache_dir: Path, digest: str, caps: Capabilities) -> None:
    """Best effort: an unwritable cache directory only costs a re-probe next time."""
    payload = {
        "format": _CACHE_FORMAT,
        "flags": list(caps.flags),
        "protocol": caps.protocol,
        "supports_ephemeral": caps.supports_ephemeral,
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = _cache_file(cache_dir, digest).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        tmp.replace(_cache_file(cache_dir, digest))
    except OSError:
        pass


def probe(executable: Executable, *, cache_dir: Path | None = None) -> Capabilities:
    """Flags and protocol of ``executable``; cached per sha256. A failed ``--help`` is not cached.

    When ``exec --help`` cannot be run the flags are empty (so the runner refuses and the resolver
    degrades) and the protocol rests on the version alone.
    """
    try:
        digest: str | None = file_sha256(executable.path)
    except OSError:
        digest = None
    if digest is not None:
        if digest in _by_digest:
            return _by_digest[digest]
        if cache_dir is not None and (hit := _load_cached(cache_dir, digest)) is not None:
            _by_digest[digest] = hit
            return hit
    help_text = read_exec_help(executable.path)
    if help_text is None:
        return capabilities_from_help(executable.version, "")
    caps = capabilities_from_help(executable.version, help_text)
    if digest is not None:
        _by_digest[digest] = caps
        if cache_dir is not None:
            _store_cached(cache_dir, digest, caps)
    return caps
