"""The published stable releases of ``@openai/codex``: what ``versions`` lists, what ``--versions latest-N``
and ``A..B`` expand to, and the line ``bisect`` walks.

The list comes from the npm packument (:mod:`harness.binaries.registry`, the one owner of registry
knowledge) and is cached with the time it was fetched, so it still answers when the registry cannot be
reached (and says that the answer is the cached one). A release is ``X.Y.Z`` with no pre-release tag;
the ``0.1.<YYMMDDHHMM>`` builds of the TypeScript CLI (2025) are not releases of the Rust CLI the lane
drives, and ``X.Y.Z-linux-x64`` are platform builds of a release, not releases.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from harness.binaries import local
from harness.binaries import registry as npm
from harness.errors import UserError
from harness.matrix.load import clip
from harness.npmversion import version_key

CACHE_SCHEMA = 1
CACHE_NAME = "releases.json"
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")  # fullmatch
#: The TypeScript CLI's date-stamped builds (0.1.2504172351 …) have a patch number this big or bigger.
_DATE_STAMPED_PATCH = 100_000
_LATEST = re.compile(r"latest(?:-(\d+))?")  # fullmatch
RELEASE_NOTES = "https://github.com/openai/codex/releases/tag/rust-v{version}"
COMPARE = "https://github.com/openai/codex/compare/rust-v{old}...rust-v{new}"


def is_release(version: str) -> bool:
    """A stable release of the Rust CLI: ``X.Y.Z``, not date-stamped, not a platform build."""
    m = _RELEASE.fullmatch(version)
    return m is not None and int(m.group(3)) < _DATE_STAMPED_PATCH


def release_notes_url(version: str) -> str:
    return RELEASE_NOTES.format(version=version)


def compare_url(old: str, new: str) -> str:
    return COMPARE.format(old=old, new=new)


@dataclass(frozen=True)
class Release:
    """One stable release; ``linux_x64`` is the npm version holding its Linux x64 build (None: not published)."""

    version: str
    published: str | None = None  # ISO-8601, from the packument's ``time``
    linux_x64: str | None = None

    @property
    def installable(self) -> bool:
        return self.linux_x64 is not None

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "published": self.published, "linux_x64": self.linux_x64}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        return cls(version=str(data["version"]), published=data.get("published"), linux_x64=data.get("linux_x64"))


def releases_from_packument(doc: dict[str, Any]) -> list[Release]:
    """Every stable release in an (abbreviated) packument, oldest first."""
    found_times = doc.get("time")
    times: dict[str, Any] = found_times if isinstance(found_times, dict) else {}
    found = [
        Release(version=v, published=times.get(v) if isinstance(times.get(v), str) else None,
                linux_x64=npm.linux_x64_version(doc, v))
        for v in doc.get("versions") or {}
        if is_release(v)
    ]
    return sorted(found, key=lambda r: version_key(r.version))


@dataclass(frozen=True)
class ReleaseIndex:
    """The release list, where it came from and when; ``cached_because`` set when the registry did not answer."""

    registry: str
    fetched_at: str
    releases: tuple[Release, ...]
    cached_because: str | None = None

    @property
    def installable(self) -> list[Release]:
        return [r for r in self.releases if r.installable]

    def find(self, version: str) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    def require(self, version: str, flag: str) -> Release:
        """The release named ``version``, or a one-line error naming the nearest ones."""
        found = self.find(version)
        if found is None:
            hint = npm.nearest_hint([r.version for r in self.releases], version)
            raise UserError(f"{flag}: {clip(version)} is not a stable release of {npm.PACKAGE} ({hint}): "
                            "see `codex-matrix versions`")
        return found

    def latest(self, back: int, flag: str) -> Release:
        """``back`` releases before the newest one that has a Linux x64 build (``latest-0`` = latest)."""
        runnable = self.installable
        if back >= len(runnable):
            raise UserError(f"{flag}: latest-{back} goes back past the {len(runnable)} releases with a linux-x64 "
                            f"build: use at most latest-{len(runnable) - 1}")
        return runnable[len(runnable) - 1 - back]

    def between(self, old: str, new: str, flag: str) -> list[Release]:
        """The releases from ``old`` to ``new``, both included (patch releases too), oldest first."""
        a, b = self.require(old, flag), self.require(new, flag)
        if version_key(a.version) > version_key(b.version):
            raise UserError(f"{flag}: {old}..{new} is reversed: write the older release first ({new}..{old})")
        lo, hi = version_key(a.version), version_key(b.version)
        return [r for r in self.releases if lo <= version_key(r.version) <= hi]

    def describe(self) -> str:
        """One line on where the list came from, e.g. for the top of ``versions``."""
        count = f"{len(self.releases)} stable releases of {npm.PACKAGE}"
        if self.cached_because:
            return f"{count}, cached at {self.fetched_at} from {self.registry} (registry unreachable: " \
                   f"{self.cached_because})"
        return f"{count} from {self.registry}, fetched at {self.fetched_at}"

    def to_json(self) -> dict[str, Any]:
        return {"schema": CACHE_SCHEMA, "registry": self.registry, "fetched_at": self.fetched_at,
                "releases": [r.to_json() for r in self.releases]}

    @classmethod
    def from_json(cls, data: dict[str, Any], cached_because: str | None = None) -> ReleaseIndex:
        return cls(registry=str(data["registry"]), fetched_at=str(data["fetched_at"]),
                   releases=tuple(Release.from_json(r) for r in data["releases"]), cached_because=cached_because)


def cache_path() -> Path:
    """Beside the build cache's default home: ``<user cache dir>/releases.json``."""
    return Path(platformdirs.user_cache_dir("codex-native-matrix")) / CACHE_NAME


def load_index(*, registry: str | None = None, path: Path | None = None) -> ReleaseIndex:
    """The release list from the registry (and cache it); the cached list when the registry fails."""
    base = registry or npm.registry_url()
    base = base if base.endswith("/") else base + "/"
    path = path or cache_path()
    try:
        doc = npm.packument(base)
    except UserError as exc:
        cached = _read_cache(path)
        if cached is None:
            raise UserError(f"{exc} (and no release list is cached at {path} yet)") from None
        return ReleaseIndex.from_json(cached, cached_because=_short_reason(str(exc)))
    index = ReleaseIndex(registry=base, fetched_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         releases=tuple(releases_from_packument(doc)))
    _write_cache(path, index)
    return index


def _short_reason(message: str) -> str:
    m = re.search(r"\(([^()]*)\)", message)
    return m.group(1) if m else message.split(":")[0]


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and data.get("schema") == CACHE_SCHEMA and isinstance(data.get("releases"), list)
    return data if ok else None


def _write_cache(path: Path, index: ReleaseIndex) -> None:
    """Atomic, and best effort: a read-only cache dir must not stop a listing."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


# -- `--versions` items: latest, latest-N, A..B -------------------------------------------------------


def needs_index(item: str) -> bool:
    """Whether an item of ``--versions`` can only be answered from the release list."""
    return ".." in item or item.startswith("latest")


def _endpoint(item: str, index: ReleaseIndex, flag: str) -> Release:
    m = _LATEST.fullmatch(item)
    if m:
        return index.latest(int(m.group(1) or 0), flag)
    if item.startswith("latest"):
        raise UserError(f"{flag}: {clip(item)!r} is not latest or latest-N (N whole releases back, e.g. latest-3)")
    return index.require(item.removeprefix("codex"), flag)


def expand_items(items: Sequence[str], load: Callable[[], ReleaseIndex], flag: str = "--versions",
                 note: Callable[[str], None] | None = None, cache_dir: Path | None = None) -> list[str]:
    """Plain versions as given; ``latest``/``latest-N``/``A..B`` expanded from the release list; a build
    from elsewhere (a path, a .tgz, ``@scope/fork@1.2.3``) imported into the build cache as its build id.

    A range keeps every stable release between its ends (patch releases included) except those npm
    has no Linux x64 build of, which are left out with a note. The list is loaded at most once.
    """
    note = note or (lambda message: None)
    index: ReleaseIndex | None = None
    out: list[str] = []
    for item in items:
        if local.is_spec(item):
            out.append(local.import_build(item, cache_dir=cache_dir).version)
            continue
        if not needs_index(item):
            out.append(item)
            continue
        if index is None:
            index = load()
            if index.cached_because:
                note(f"{flag}: the npm registry is unreachable; using the release list cached at {index.fetched_at}")
        if ".." in item:
            old, _, new = item.partition("..")
            if not old or not new or ".." in new:
                raise UserError(f"{flag}: {clip(item)!r} is not a range: write OLD..NEW, e.g. 0.117.0..0.125.0")
            a, b = _endpoint(old, index, flag), _endpoint(new, index, flag)
            span = index.between(a.version, b.version, flag)
            missing = [r.version for r in span if not r.installable]
            if missing:
                note(f"{flag}: left out {', '.join(missing)}: npm has no linux-x64 build of them")
            out += [r.version for r in span if r.installable]
        else:
            out.append(_endpoint(item, index, flag).version)
    return list(dict.fromkeys(out))


def expand_versions_arg(text: str | None, flag: str = "--versions", cache_dir: Path | None = None) -> str | None:
    """The ``--versions`` flag with its registry items and local builds expanded (None and plain lists
    pass through)."""
    if text is None:
        return None
    items = [v.strip() for v in text.split(",") if v.strip()]
    if not any(needs_index(i) or local.is_spec(i) for i in items):
        return text
    return ",".join(expand_items(items, load_index, flag, note=lambda m: print(m, file=sys.stderr),
                                 cache_dir=cache_dir))
