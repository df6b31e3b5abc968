"""codex-cli builds from npm: resolve, download with integrity check, unpack safely, cache atomically.

Public API (everything else in this package is an implementation detail):

* ``fetch(version, *, cache_dir=None, registry=None, progress=None, verify=False) -> CachedBuild``
* ``cached(version, *, cache_dir=None, verify=False) -> CachedBuild | None`` (no network)
* ``remove(version, *, cache_dir=None) -> bool`` (drop one cached build, e.g. after the atlas used it)
* ``cache_root() -> Path`` and ``registry_url() -> str``
"""

from __future__ import annotations

from harness.binaries.cache import CachedBuild, cache_dir_of, cache_root, cached, fetch, remove
from harness.binaries.registry import registry_url

__all__ = ["CachedBuild", "cache_dir_of", "cache_root", "cached", "fetch", "registry_url", "remove"]
