"""Builds from anywhere: a codex executable, an unpacked npm package, an ``npm pack`` tarball or another
npm package (``@scope/codex-fork@1.2.3``), imported into the build cache beside the releases.

Nothing about such a build is assumed: its version is what ``codex --version`` says, its id carries
its content hash (:mod:`harness.buildid`), and its fingerprint is measured like a release's. The
import copies the build into a scratch dir of the cache, checks it is a codex build, and renames it
into place, so a path that is not a codex build leaves nothing behind, in the cache or elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import urllib.parse
from pathlib import Path

from harness.binaries import identity, scratch
from harness.binaries import registry as npm
from harness.binaries.cache import METADATA, SCHEMA, TMP_PREFIX, TREE, CachedBuild, cache_dir_of, cached
from harness.binaries.download import download
from harness.binaries.extract import BINARY_CANDIDATES, VENDOR_PREFIX, extract_linux_x64, locate_binary
from harness.binaries.tree import scan, tree_digest
from harness.buildid import is_local, local_id
from harness.errors import UserError
from harness.lane.executable import parse_version_line
from harness.progress import NullProgress, Progress

#: ``name@version`` of an npm package other than the releases (``@scope/codex-fork@1.2.3``).
_NPM_SPEC = re.compile(r"(?P<name>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)@(?P<version>\d+\.\d+\.\d+[\w.+-]*)")
_RELEASE_SPEC = re.compile(r"(?:@openai/codex@)?v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
_FIX = "pass a codex executable, an unpacked npm package, an `npm pack` .tgz or PACKAGE@VERSION"


def is_spec(text: str) -> bool:
    """True when ``--versions`` names a build from elsewhere rather than a release (or an id of one)."""
    text = text.strip()
    if not text or is_local(text) or _RELEASE_SPEC.fullmatch(text):
        return False
    return "/" in text or text.startswith((".", "~")) or text.endswith(".tgz") or _NPM_SPEC.fullmatch(text) is not None


def is_npm_spec(text: str) -> bool:
    """``name@version`` of a package (not a path that happens to contain an ``@``)."""
    return _NPM_SPEC.fullmatch(text.strip()) is not None and not Path(text).expanduser().exists()


def import_build(spec: str, *, cache_dir: Path | None = None, progress: Progress | None = None) -> CachedBuild:
    """Import ``spec`` into the build cache (once per content) and return it; one-line UserError if it is
    not a codex build."""
    progress = progress or NullProgress()
    root = cache_dir_of(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    scratch.sweep(root, TMP_PREFIX)
    work = scratch.make(root, TMP_PREFIX)
    try:
        tree = work / "entry" / TREE
        source = _gather(spec.strip(), tree, work, progress)
        relpath = locate_binary(tree)
        entries = scan(tree)
        if not identity.can_run_here():
            raise UserError(f"{spec}: a local build's version is read by running `codex --version`, which needs a "
                            "Linux x64 host: run codex-matrix there")
        try:
            line = identity.version_line(tree / relpath)
        except UserError as exc:
            why = str(exc).replace(f"{tree / relpath} ", "codex ").split(": the build is broken")[0]
            raise UserError(f"--versions {spec} is not a working codex build: {why}: {_FIX}") from None
        _, reported = parse_version_line(line)
        if reported is None:
            raise UserError(f"{spec} is not a codex build: `codex --version` printed {line[:80]!r}, not "
                            f"'codex-cli X.Y.Z': {_FIX}")
        digest = tree_digest(entries)
        build_id = local_id(reported, digest)
        found = cached(build_id, cache_dir=root)
        if found is not None:
            return found
        meta = {
            "schema": SCHEMA, "version": build_id, "npm_version": "", "tarball": source, "integrity": "",
            "binary_relpath": relpath, "sha256": next(e.sha256 for e in entries if e.relpath == relpath),
            "tree_sha256": digest, "version_line": line, "local": {"source": source, "reported": reported},
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {e.relpath: e.as_json() for e in entries},
        }
        (work / "entry" / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        with scratch.locked(root, build_id), contextlib.suppress(OSError):  # another import may have won
            os.rename(work / "entry", root / build_id)
        progress.note(f"local build {source}: {line} → {build_id}")
        found = cached(build_id, cache_dir=root)
        if found is None:
            raise UserError(f"cache entry {root / build_id} is unusable: delete it and retry")
        return found
    finally:
        scratch.discard(work)


def _gather(spec: str, tree: Path, work: Path, progress: Progress) -> str:
    """Put the build's Linux x64 tree at ``tree``; returns how the source is recorded."""
    npm_spec = _NPM_SPEC.fullmatch(spec)
    path = Path(spec).expanduser()
    if npm_spec is not None and not path.exists():
        tgz = work / "package.tgz"
        _download_package(npm_spec["name"], npm_spec["version"], tgz, progress)
        extract_linux_x64(tgz, tree, label=spec)
        return spec
    if not path.exists():
        raise UserError(f"--versions {spec}: no such file or directory: {_FIX}")
    path = path.resolve()
    if path.is_dir():
        _copy_package_dir(path, tree, spec)
    elif path.name.endswith((".tgz", ".tar.gz")):
        try:
            extract_linux_x64(path, tree, label=spec)
        except UserError as exc:
            why = str(exc).split(": retry")[0]
            raise UserError(f"--versions {why}: pass the .tgz that `npm pack` made of a codex package") from None
    elif os.access(path, os.X_OK):
        _copy_binary(path, tree)
    else:
        raise UserError(f"--versions {spec}: not an executable file, a directory or a .tgz: {_FIX}")
    return str(path)


def _copy_binary(path: Path, tree: Path) -> None:
    """A lone executable becomes ``bin/codex`` (the newest layout), helpers none."""
    (tree / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, tree / "bin" / "codex")
    os.chmod(tree / "bin" / "codex", 0o755)


def _copy_package_dir(path: Path, tree: Path, spec: str) -> None:
    """An unpacked npm package (``package/`` or its contents) or a vendor tree: the Linux x64 part."""
    for base in (path, path / "package"):
        vendor = base / VENDOR_PREFIX.rstrip("/")
        if vendor.is_dir():
            shutil.copytree(vendor, tree, symlinks=True)
            return
    if any((path / rel).is_file() for rel in BINARY_CANDIDATES):  # already a vendor tree
        shutil.copytree(path, tree, symlinks=True)
        return
    if (path / "codex").is_file():  # a folder holding the executable, e.g. a downloaded CI artifact
        _copy_binary(path / "codex", tree)
        return
    raise UserError(f"--versions {spec}: the directory holds no codex build (no {VENDOR_PREFIX}, no bin/codex): "
                    f"{_FIX}")


def _download_package(name: str, version: str, dest: Path, progress: Progress) -> None:
    """``name@version`` from the npm registry, integrity-checked like a release."""
    base = npm.registry_url()
    base = base if base.endswith("/") else base + "/"
    try:
        doc = npm.get_json(base + urllib.parse.quote(name, safe="@"), registry=base)
    except UserError as exc:
        if "HTTP 404" in str(exc):
            raise UserError(f"--versions {name}@{version}: no package {name} on the npm registry {base}: check the "
                            "name (`npm view NAME versions`) or point NPM_CONFIG_REGISTRY at the registry that has it"
                            ) from None
        raise UserError(f"--versions {name}@{version}: {exc}") from None
    info = (doc.get("versions") or {}).get(version) if isinstance(doc, dict) else None
    dist = info.get("dist") if isinstance(info, dict) else None
    if not isinstance(dist, dict) or not dist.get("tarball") or not dist.get("integrity"):
        raise UserError(f"--versions {name}@{version}: the registry {base} has no such version with a tarball "
                        "and integrity: check the name and version (`npm view NAME versions`)")
    download(str(dist["tarball"]), dest, str(dist["integrity"]), registry=base, label=f"{name}@{version}",
             progress=progress)
