"""The npm version: how a codex-cli (or ``@openai/codex-sdk``) version is spelled, checked and ordered.

One value type for every reader of a version (matrix.yaml, ``--versions``, results.json, the registry
index, the build cache, the atlas, the SDK cache), so a version means the same thing everywhere:

* **Spelled as npm spells it** (``0.117.0``, ``0.128.0-alpha.1``): the registry, the cache, image tags
  and cell ids use that text, so it is kept as written. PEP 440 would turn ``0.128.0-alpha.1`` into
  ``0.128.0a1``, which npm does not know.
* **Ordered by PEP 440** (:attr:`NpmVersion.key`): expectations select versions by PEP 440 ranges, so
  a version must parse as one too, and a prerelease sorts before its release. A build from elsewhere
  (``0.172.0-local.3f9a1c2e``, :mod:`harness.buildid`) sorts right after the release it reports.
* **Checked with fullmatch**, never ``match`` + ``$`` (which also matches before a final newline:
  ``"0.117.0\\n"`` is no version and must never become a directory name).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from harness.buildid import is_local, pep440, reported_version

# npm's semver: X.Y.Z with an optional prerelease (`-alpha.1`), no leading zeros, no build metadata.
NPM_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?")
#: ``0.99.0-linux-x64``: the name of a platform package's version, not a codex-cli version.
PLATFORM_BUILD = re.compile(r"-(linux|darwin|win32)-(x64|arm64)\Z")


def _q(value: object, limit: int = 40) -> str:
    """``repr`` of a value quoted in a message, cut short: a hostile file must not make a line long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 2] + "…'"


@functools.total_ordering
@dataclass(frozen=True)
class NpmVersion:
    """A checked npm version; ``str()`` is its npm spelling, comparisons follow PEP 440."""

    text: str

    @classmethod
    def parse(cls, text: str, *, local: bool = True) -> NpmVersion:
        """``text`` stripped and checked; ValueError naming the problem and the fix otherwise.

        ``local=False`` refuses a local build id (what the npm registry and its cache take)."""
        value = str(text).strip()
        if local and is_local(value):  # a build from elsewhere: its reported version must be one too
            cls.parse(reported_version(value), local=False)
            return cls(value)
        if NPM_VERSION.fullmatch(value) is None:
            raise ValueError(f"{_q(value)} is not an X.Y.Z version: write it as X.Y.Z, e.g. 0.117.0 "
                             "(or an npm prerelease such as 0.128.0-alpha.1)")
        if PLATFORM_BUILD.search(value):
            raise ValueError(f"{_q(value)} names a platform build, not a codex-cli version: "
                             f"write {PLATFORM_BUILD.sub('', value)}")
        try:
            Version(value)
        except InvalidVersion:
            raise ValueError(f"{_q(value)} is an npm prerelease that PEP 440 ranges cannot order: "
                             "use one like 0.128.0-alpha.1 or 0.128.0-beta.2") from None
        return cls(value)

    @property
    def key(self) -> Version:
        """The PEP 440 order (``0.128.0-alpha.1`` < ``0.128.0`` < ``0.128.0-local.…`` < ``0.128.1``)."""
        return version_key(self.text)

    @property
    def stable(self) -> bool:
        """A release, not a prerelease (and not a build from elsewhere)."""
        return not self.key.is_prerelease and not is_local(self.text)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, NpmVersion):
            return NotImplemented
        return self.key < other.key

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> str:
    """The npm spelling of a checked version (:meth:`NpmVersion.parse`); ValueError otherwise."""
    return NpmVersion.parse(text).text


def version_key(version: str) -> Version:
    """The PEP 440 order of a version's npm spelling (see :attr:`NpmVersion.key`)."""
    return Version(pep440(version))
