"""The build cache: one integrity-checked, version-checked Linux x64 tree per codex-cli version.

Layout: ``<cache_root>/<version>/{build.json, tree/…}``. A version directory appears only by an
atomic rename of a fully prepared scratch dir, so a reader either sees a complete entry or none.
``build.json`` carries the digests so ``cached()`` answers without re-hashing 400 MB; on use it still
re-checks every file's size and mode and the main binary's sha256 (measured 0.2-0.3 s for the 294 MB
0.169.0 binary), while ``verify=True`` re-hashes the whole tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from harness.binaries import identity, scratch
from harness.binaries import registry as npm
from harness.binaries.download import download
from harness.binaries.extract import extract_linux_x64, locate_binary
from harness.binaries.tree import FileEntry, file_sha256, scan, tree_digest
from harness.buildid import is_local
from harness.errors import UserError, from_os_error
from harness.progress import NullProgress, Progress

SCHEMA = 1
METADATA = "build.json"
TREE = "tree"
TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class CachedBuild:
    """A codex-cli build ready to be copied into an image (or run on a Linux x64 host)."""

    version: str  # "0.117.0"
    root: Path  # the extracted vendor tree for linux x64 (helpers included)
    binary: Path  # the codex executable inside root
    binary_relpath: str  # binary relative to root, e.g. "codex/codex" or "bin/codex"
    sha256: str  # of the binary
    tree_sha256: str  # of the whole tree (sorted relpaths + modes + file digests); feeds image tags
    integrity: str  # the registry's SRI string of the tarball
    version_line: str  # `codex --version`, e.g. "codex-cli 0.117.0" ("" if the host cannot run it)
    npm_version: str = ""  # the npm version downloaded, e.g. "0.117.0-linux-x64"
    tarball: str = ""  # where it came from


def cache_root() -> Path:
    """``$CODEX_MATRIX_CACHE`` if set, else the platform user cache dir + ``/builds``."""
    override = os.environ.get("CODEX_MATRIX_CACHE", "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("codex-native-matrix")) / "builds"


def cache_dir_of(cache_dir: Path | None) -> Path:
    """The cache directory to use, always absolute: a relative ``--cache-dir``/``$CODEX_MATRIX_CACHE``
    would otherwise name another place once a step runs in a scratch dir (the fetched binary's
    identity check runs there, and "../cache/…/codex" is then not found)."""
    return (cache_dir or cache_root()).expanduser().resolve()


def cached(version: str, *, cache_dir: Path | None = None, verify: bool = False) -> CachedBuild | None:
    """The cached build of ``version`` or None; never touches the network."""
    npm.check_version_shape(version)
    found = _load(cache_dir_of(cache_dir) / version, version, verify=verify)
    return found if isinstance(found, CachedBuild) else None


def recorded_tree_digest(version: str, *, cache_dir: Path | None = None) -> str | None:
    """The tree digest ``build.json`` records for ``version``, read without checking the tree.

    Only for naming what was built from the tree before (the per-version image tag): when that image
    exists the tree is not used, so hashing its binary again (up to 294 MB per build, every run) buys
    nothing. Anything that uses the tree goes through :func:`cached`.
    """
    npm.check_version_shape(version)
    try:
        meta = json.loads((cache_dir_of(cache_dir) / version / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digest = meta.get("tree_sha256") if isinstance(meta, dict) and meta.get("schema") == SCHEMA else None
    return digest if isinstance(digest, str) else None


def fetch(version: str, *, cache_dir: Path | None = None, registry: str | None = None,
          progress: Progress | None = None, verify: bool = False,
          packument: dict[str, Any] | None = None) -> CachedBuild:
    """Return the cached build of ``version``, downloading and checking it first if needed.

    ``verify=True`` re-hashes a cached tree and replaces it when it no longer matches its metadata.
    ``packument``: the registry's document when the caller already holds it (the atlas resolves every
    release from one), so a fetch does not download it again.
    """
    npm.check_version_shape(version)
    progress = progress or NullProgress()
    root = cache_dir_of(cache_dir)
    try:
        return _fetch(version, root, registry, progress, verify, packument)
    except OSError as exc:  # a full disk while unpacking, a read-only --cache-dir, no permission
        raise cache_problem(root, exc) from None


def cache_problem(root: Path, exc: OSError) -> UserError:
    """One line for an OSError in the build cache: exit 2 when the user can fix it, else 3."""
    fixable = from_os_error(exc) is not None
    where = f" ({exc.filename})" if exc.filename else ""
    return UserError(
        f"the build cache {root} cannot be used: {exc.strerror or exc}{where}: free disk space there, or point "
        "--cache-dir (or CODEX_MATRIX_CACHE) at a writable directory with a few GB free",
        exit_code=2 if fixable else 3,
    )


def _fetch(version: str, root: Path, registry: str | None, progress: Progress, verify: bool,
           packument: dict[str, Any] | None = None) -> CachedBuild:
    root.mkdir(parents=True, exist_ok=True)
    scratch.sweep(root, TMP_PREFIX)
    with scratch.locked(root, version, waiting=progress.note, what=f"codex-cli {version} in the build cache"):
        found = _load(root / version, version, verify=verify)
        if isinstance(found, CachedBuild):
            return found
        if found is not None:
            progress.note(f"cached codex-cli {version} is damaged ({found}); fetching it again")
            _discard_entry(root, version)
        if is_local(version):
            raise UserError(f"local build {version} is not in the build cache {root}{' any more' if found else ''}: "
                            "name its path (or .tgz, or PACKAGE@VERSION) in --versions again")
        base = registry or npm.registry_url()
        base = base if base.endswith("/") else base + "/"
        ref = npm.resolve(packument if packument is not None else npm.packument(base), version, base)
        return _install(root, ref, base, progress)


def _install(root: Path, ref: npm.TarballRef, base: str, progress: Progress) -> CachedBuild:
    work = scratch.make(root, TMP_PREFIX)
    label = f"{npm.PACKAGE}@{ref.npm_version}"
    try:
        tgz = work / "package.tgz"
        download(ref.tarball, tgz, ref.integrity, registry=base, label=label, progress=progress)
        entry = work / "entry"
        tree = entry / TREE
        progress.start(f"unpack {label}")
        extract_linux_x64(tgz, tree, label=label)
        tgz.unlink()
        relpath = locate_binary(tree)
        entries = scan(tree)
        line = ""
        if identity.can_run_here():
            line = identity.version_line(tree / relpath)
            identity.check_version_line(line, ref.version, label)
        meta = {
            "schema": SCHEMA,
            "version": ref.version,
            "npm_version": ref.npm_version,
            "tarball": ref.tarball,
            "integrity": ref.integrity,
            "binary_relpath": relpath,
            "sha256": next(e.sha256 for e in entries if e.relpath == relpath),
            "tree_sha256": tree_digest(entries),
            "version_line": line,
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {e.relpath: e.as_json() for e in entries},
        }
        (entry / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        size = sum(e.size for e in entries)
        progress.done(f"{len(entries)} files, {size / 1e6:.0f} MB, {line or 'version not run on this host'}")
        with contextlib.suppress(OSError):  # only a lock-less writer can have installed it first
            os.rename(entry, root / ref.version)
        found = _load(root / ref.version, ref.version, verify=False)
        if not isinstance(found, CachedBuild):
            raise UserError(f"cache entry {root / ref.version} is unusable ({found}): delete it and retry")
        return found
    finally:
        scratch.discard(work)


def _load(directory: Path, version: str, *, verify: bool) -> CachedBuild | str | None:
    """A CachedBuild, None when absent, or a reason string when the entry is damaged."""
    meta_path = directory / METADATA
    if not meta_path.is_file():
        return "metadata missing" if directory.exists() else None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("schema") != SCHEMA or meta.get("version") != version:
            return "metadata from another schema or version"
        files: dict[str, dict[str, Any]] = meta["files"]
        build = CachedBuild(
            version=version, root=directory / TREE, binary=directory / TREE / meta["binary_relpath"],
            binary_relpath=meta["binary_relpath"], sha256=meta["sha256"], tree_sha256=meta["tree_sha256"],
            integrity=meta["integrity"], version_line=meta["version_line"],
            npm_version=meta.get("npm_version", ""), tarball=meta.get("tarball", ""),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable metadata: {exc}"
    problem = _verify_full(build, files) if verify else _verify_quick(build, files)
    return problem or build


def _verify_quick(build: CachedBuild, files: dict[str, dict[str, Any]]) -> str | None:
    for rel, info in files.items():
        path = build.root / rel
        try:
            st = path.lstat()
        except OSError:
            return f"{rel} missing"
        exec_bit = bool(st.st_mode & 0o111)
        if info["kind"] == "file" and (st.st_size != info["size"] or exec_bit != bool(info["mode"] & 0o111)):
            return f"{rel} changed size or mode"
    if file_sha256(build.binary) != build.sha256:
        return f"{build.binary_relpath} sha256 differs"
    return None


def _verify_full(build: CachedBuild, files: dict[str, dict[str, Any]]) -> str | None:
    entries = scan(build.root)
    current = {e.relpath: e for e in entries}
    for rel in sorted(set(files) | set(current)):
        entry: FileEntry | None = current.get(rel)
        if entry is None or rel not in files or entry.as_json() != files[rel]:
            return f"{rel} differs from build.json"
    if tree_digest(entries) != build.tree_sha256:
        return "tree digest differs"
    return None


def remove(version: str, *, cache_dir: Path | None = None) -> bool:
    """Delete the cached build of ``version`` (True if there was one); readers never see it half-gone.

    Taken under the version's lock, so a concurrent fetch of the same version either finishes first or
    starts after the entry is gone.
    """
    npm.check_version_shape(version)
    root = cache_dir_of(cache_dir)
    if not (root / version).exists():
        return False
    with scratch.locked(root, version):
        if not (root / version).exists():
            return False
        _discard_entry(root, version)
    return True


def _discard_entry(root: Path, version: str) -> None:
    """Move a damaged entry aside atomically, then delete it, so readers never see it half-deleted."""
    doomed = scratch.make(root, TMP_PREFIX)
    os.rename(root / version, doomed / version)
    scratch.discard(doomed)
