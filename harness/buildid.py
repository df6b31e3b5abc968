"""Build ids: the one spelling of "which codex build" that cell ids, the cache and image tags share.

A published release is its npm version (``0.117.0``, ``0.128.0-alpha.1``). A build from anywhere else
(a ``cargo build``, a fork, an unpacked package) is ``<reported>-local.<hash>``: the version the binary
itself reports, then the first 8 hex digits of its tree's sha256, so it can never be taken for the
release of the same version, and two different local builds never share an id, a cache entry or an
image. Expectations select a local build by the version it reports (PEP 440 reads the id as the local
version ``<reported>+local.<hash>``, which ``>=0.117`` matches like the release) and by ``local: true``.
"""

from __future__ import annotations

import re

LOCAL_MARK = "-local."
_LOCAL = re.compile(r"(?P<reported>.+)-local\.(?P<digest>[0-9a-f]{8})")


def local_id(reported: str, tree_sha256: str) -> str:
    """The id of a local build reporting ``reported`` whose tree hashes to ``tree_sha256``."""
    return f"{reported}{LOCAL_MARK}{tree_sha256[:8]}"


def is_local(build_id: str) -> bool:
    return _LOCAL.fullmatch(build_id) is not None


def reported_version(build_id: str) -> str:
    """The version a build reports: a release's own, a local build's without its suffix."""
    match = _LOCAL.fullmatch(build_id)
    return match["reported"] if match else build_id


def pep440(build_id: str) -> str:
    """The id as PEP 440 orders and selects it: ``0.172.0-local.3f9a1c2e`` → ``0.172.0+local.3f9a1c2e``."""
    match = _LOCAL.fullmatch(build_id)
    return f"{match['reported']}+local.{match['digest']}" if match else build_id
