"""Which releases the atlas visits: every stable ``@openai/codex`` version in the registry, oldest first.

Stable means a plain ``X.Y.Z`` (no prerelease tag; the ``X.Y.Z-linux-x64`` platform builds are not
releases but where a release's Linux binary lives from 0.99.0 on). Whether a release can be installed
is decided from the packument alone where possible: a release whose ``optionalDependencies`` name a
Linux x64 build the registry never published (0.142.1, 0.153.1) is recorded as not installable
without downloading anything. Pure functions over the packument: no network here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.binaries import registry as npm
from harness.errors import UserError
from harness.npmversion import version_key

_STABLE = re.compile(r"\d+\.\d+\.\d+")  # fullmatch


@dataclass(frozen=True)
class Release:
    """One stable release; ``unavailable`` says why it cannot be installed (None: it can be tried)."""

    version: str
    npm_version: str | None = None  # the npm version holding its Linux x64 build
    unavailable: str | None = None

    @property
    def key(self) -> Version:
        return version_key(self.version)


def notes_url(version: str) -> str:
    """The release notes of ``version`` on GitHub (codex tags its Rust releases ``rust-v<version>``)."""
    return f"https://github.com/openai/codex/releases/tag/rust-v{version}"


def parse_bound(flag: str, value: str | None) -> Version | None:
    """``--since``/``--until`` as a version (``0.97`` is fine), or None when not given."""
    if value is None:
        return None
    try:
        return Version(value.strip().removeprefix("v"))
    except InvalidVersion:
        raise UserError(f"{flag} {value!r} is not a version: pass one like 0.97.0") from None


def stable_releases(doc: dict[str, Any], registry: str, *, since: Version | None = None,
                    until: Version | None = None) -> list[Release]:
    """Stable releases within ``[since, until]`` (both inclusive), oldest first."""
    found: list[Release] = []
    for version in doc.get("versions", {}):
        if not _STABLE.fullmatch(version):
            continue
        parsed = version_key(version)
        if (since is not None and parsed < since) or (until is not None and parsed > until):
            continue
        try:
            ref = npm.resolve(doc, version, registry)
        except UserError as exc:
            found.append(Release(version, unavailable=str(exc)))
            continue
        found.append(Release(version, npm_version=ref.npm_version))
    found.sort(key=lambda r: r.key)
    return found
