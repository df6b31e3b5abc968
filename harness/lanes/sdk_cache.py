"""The ``@openai/codex-sdk`` cache: one integrity-checked ``dist/`` per SDK version, like codex builds.

Layout: ``<root>/<version>/{sdk.json, package/package.json, package/dist/…}`` under the user cache dir
(``…/codex-native-matrix/lanes/codex-sdk``). Only ``package.json`` and ``dist/`` are kept: at runtime the
SDK needs Node builtins alone (no dependency is imported; 0.101+ *declare* ``@openai/codex`` only to find
a binary, which the adapter names with ``codexPathOverride``), and ``dist/`` is ~17 KB.

Why like the build cache: the tarball's sha512 is checked against the registry's ``integrity`` before
anything is unpacked; an entry appears only by an atomic rename of a complete scratch dir; ``sdk.json``
records each kept file's sha256, re-checked on every use (a few files, microseconds), so a damaged entry
is fetched again instead of silently running changed code. The registry is npm's own choice
(:func:`harness.binaries.registry.registry_url`), so a mirror configured for codex serves the SDK too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from harness.binaries import registry as npm
from harness.binaries import scratch
from harness.binaries.download import download
from harness.errors import UserError
from harness.npmversion import NpmVersion

PACKAGE = "@openai/codex-sdk"
SCHEMA = 1
METADATA = "sdk.json"
TMP_PREFIX = ".tmp-"
#: What a dist file may be called; anything else in the tarball's dist/ is refused, not unpacked.
_SAFE_NAME = re.compile(r"^package/(package\.json|dist/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*)$")
_MAX_FILE_BYTES = 16 << 20


@dataclass(frozen=True)
class CachedSdk:
    """An SDK version ready for the adapter: ``dist`` is what ``options.sdk_dist`` names."""

    version: str
    dist: Path
    integrity: str
    tarball: str
    files: dict[str, str]  # relpath under package/ → sha256


def cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("codex-native-matrix")) / "lanes" / "codex-sdk"


def check_version(version: str) -> None:
    """Refuse what is not a plain npm version before it becomes a directory name (the string as given:
    ``0.163.0\\n`` is none; :mod:`harness.npmversion`)."""
    try:
        ok = NpmVersion.parse(version, local=False).text == version
    except ValueError:
        ok = False
    if not ok:
        raise UserError(f"{version[:40]!r} is not an {PACKAGE} version: pass one like 0.163.0 "
                        f"(`npm view {PACKAGE} versions` lists them)")


def packument(registry: str) -> dict[str, Any]:
    """The SDK's abbreviated packument (versions with their dist tarball and integrity)."""
    url = registry + urllib.parse.quote(PACKAGE, safe="@")
    try:
        doc = npm.get_json(url, registry=registry, accept="application/vnd.npm.install-v1+json")
    except UserError as exc:
        if "HTTP 404" in str(exc):
            raise UserError(f"{PACKAGE} not found on the npm registry {registry} (HTTP 404): point "
                            "NPM_CONFIG_REGISTRY at a registry or mirror that carries it") from None
        raise
    if not isinstance(doc, dict) or not isinstance(doc.get("versions"), dict):
        raise UserError(f"npm registry {registry} returned no version list for {PACKAGE}")
    return doc


def published(doc: dict[str, Any]) -> list[str]:
    """Every published version, in the registry's order."""
    return [v for v in doc["versions"] if isinstance(v, str)]


def _ref(doc: dict[str, Any], version: str, registry: str) -> tuple[str, str]:
    meta = doc["versions"].get(version)
    if not isinstance(meta, dict):
        raise UserError(f"{PACKAGE} {version} is not published on {registry}: pick an existing version "
                        f"({npm.nearest_hint(published(doc), version)})")
    dist = meta.get("dist") or {}
    tarball, integrity = dist.get("tarball"), dist.get("integrity")
    if not isinstance(tarball, str) or not isinstance(integrity, str):
        raise UserError(f"{PACKAGE}@{version} on {registry} has no tarball/integrity in its metadata")
    return tarball, integrity


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract_dist(tgz: Path, dest: Path, *, label: str) -> dict[str, str]:
    """Unpack ``package/package.json`` and ``package/dist/**`` (regular files only) into ``dest``.

    Returns relpath → sha256. Links, devices, absolute or ``..`` paths and oversized members are refused:
    the tarball was integrity-checked, but the check proves only that it is what the registry holds."""
    files: dict[str, str] = {}
    with tarfile.open(tgz, "r:gz") as archive:
        for member in archive:
            if not _SAFE_NAME.match(member.name):
                continue
            if not member.isfile() or member.size > _MAX_FILE_BYTES:
                raise UserError(f"{label}: refusing {member.name!r} (not a regular file of sane size)")
            rel = member.name.removeprefix("package/")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = archive.extractfile(member)
            assert handle is not None
            data = handle.read()
            target.write_bytes(data)
            files[rel] = hashlib.sha256(data).hexdigest()
    if "dist/index.js" not in files or "package.json" not in files:
        raise UserError(f"{label}: the tarball has no package/dist/index.js or package.json; not an SDK build")
    return files


def _load(directory: Path, version: str) -> CachedSdk | str | None:
    """A CachedSdk, None when absent, or a reason string when the entry is damaged."""
    try:
        meta = json.loads((directory / METADATA).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None if not directory.exists() else f"no {METADATA}"
    except (OSError, ValueError) as exc:
        return f"{METADATA} unreadable: {exc}"
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA or meta.get("version") != version:
        return f"{METADATA} is not a schema-{SCHEMA} record of {version}"
    files = meta.get("files")
    if not isinstance(files, dict) or not files:
        return f"{METADATA} lists no files"
    for rel, digest in files.items():
        try:
            if _sha256(directory / "package" / rel) != digest:
                return f"{rel} changed since it was fetched"
        except OSError:
            return f"{rel} is missing"
    return CachedSdk(version=version, dist=directory / "package" / "dist", integrity=str(meta["integrity"]),
                     tarball=str(meta["tarball"]), files=dict(files))


def cached(version: str, *, cache_dir: Path | None = None) -> CachedSdk | None:
    found = _load((cache_dir or cache_root()) / version, version)
    return found if isinstance(found, CachedSdk) else None


def fetch_sdk(version: str, *, cache_dir: Path | None = None, registry: str | None = None,
              doc: dict[str, Any] | None = None) -> CachedSdk:
    """The cached ``dist/`` of ``version``, downloading and verifying it first when needed.

    ``doc``: a packument already read (fetching many versions reads it once)."""
    check_version(version)
    root = cache_dir or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    scratch.sweep(root, TMP_PREFIX)
    with scratch.locked(root, version, what=f"{PACKAGE} {version} in the SDK cache"):
        found = _load(root / version, version)
        if isinstance(found, CachedSdk):
            return found
        if found is not None:
            scratch.discard(root / version)
        base = registry or npm.registry_url()
        base = base if base.endswith("/") else base + "/"
        tarball, integrity = _ref(doc if doc is not None else packument(base), version, base)
        work = scratch.make(root, TMP_PREFIX)
        label = f"{PACKAGE}@{version}"
        try:
            tgz = work / "package.tgz"
            download(tarball, tgz, integrity, registry=base, label=label)
            entry = work / "entry"
            files = extract_dist(tgz, entry / "package", label=label)
            meta = {"schema": SCHEMA, "version": version, "tarball": tarball, "integrity": integrity,
                    "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": files}
            (entry / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            with contextlib.suppress(OSError):
                os.rename(entry, root / version)
        finally:
            scratch.discard(work)
        loaded = _load(root / version, version)
        if not isinstance(loaded, CachedSdk):
            raise UserError(f"SDK cache entry {root / version} is unusable ({loaded}): delete it and retry")
        return loaded


def make_tarball(files: dict[str, bytes]) -> bytes:
    """A gzipped npm-style tarball of ``files`` (names under ``package/``); for tests and fixtures."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
