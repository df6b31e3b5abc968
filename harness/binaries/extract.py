"""Unpack only the Linux x64 build out of an npm tarball, refusing anything that could escape the target.

Every member of the archive is checked, not just the kept ones: a tarball carrying an absolute path,
a ``..`` component, a device node or a link that leaves the package is treated as hostile and the
whole fetch fails. The archive is read in one streaming pass (``r|gz``) because the fat pre-0.99
tarballs are 90-180 MB and a second decompression pass would double the cost.

Kept layouts (paths inside the package, after npm's ``package/`` prefix):
  * ``vendor/x86_64-unknown-linux-musl/**`` (0.42+): the whole tree, helpers included;
  * ``bin/codex-x86_64-unknown-linux-musl`` (≤0.40): the single binary.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from harness.errors import UserError

TRIPLE = "x86_64-unknown-linux-musl"
VENDOR_PREFIX = f"vendor/{TRIPLE}/"
LEGACY_BINARY = f"bin/codex-{TRIPLE}"
# Candidates for the codex executable inside the kept tree, newest layout first.
BINARY_CANDIDATES = ("bin/codex", "codex/codex", f"codex-{TRIPLE}")
MAX_TOTAL_BYTES = 4 << 30  # far above the 0.169 tree (~0.4 GB); stops a decompression bomb
_CHUNK = 1 << 20


class UnsafeArchive(UserError):
    """The tarball tried to write outside its package or carried special files."""


class NoLinuxBuild(UserError):
    """The package holds no Linux x64 build at all (the TypeScript-era releases): not installable here."""


def _package_path(name: str, label: str) -> str:
    """Member name without npm's first component (``package/``), after safety checks."""
    if name.startswith("/") or "\\" in name:
        raise _unsafe(label, name, "absolute or backslash path")
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(label, name, "'..' path component")
    return "/".join(parts[1:])


def _unsafe(label: str, name: str, why: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"refusing to unpack {label}: member {name!r} is unsafe ({why}); the tarball is malformed "
        "or tampered: use the official registry (NPM_CONFIG_REGISTRY=https://registry.npmjs.org/)"
    )


def _kept_relpath(path: str) -> str | None:
    """Where a package path lands inside the kept tree, or None when it belongs to another platform."""
    if path.startswith(VENDOR_PREFIX) and len(path) > len(VENDOR_PREFIX):
        return path[len(VENDOR_PREFIX) :]
    if path == LEGACY_BINARY:
        return f"codex-{TRIPLE}"
    return None


def extract_linux_x64(tarball: Path, dest: Path, *, label: str) -> None:
    """Unpack the Linux x64 part of ``tarball`` into the empty directory ``dest``.

    Raises ``UserError`` when the package holds no Linux x64 build (e.g. the old TypeScript releases).
    """
    dest.mkdir(parents=True, exist_ok=False)
    root = dest.resolve()
    total = 0
    kept_vendor = False
    try:
        with tarfile.open(tarball, mode="r|gz") as archive:
            for member in archive:
                path = _package_path(member.name, label)
                _check_member(member, path, label)
                rel = _kept_relpath(path)
                if rel is None:
                    continue
                target = root / rel
                _check_inside(root, target.parent, label, member.name)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _check_inside(root, target.parent, label, member.name)
                if member.issym():
                    _link_inside(root, target, member.linkname, label, member.name)
                elif member.islnk():
                    source_rel = _kept_relpath(_package_path(member.linkname, label))
                    if source_rel is None or not (root / source_rel).is_file():
                        raise _unsafe(label, member.name, "hard link to a file outside the kept tree")
                    target.unlink(missing_ok=True)
                    os.link(root / source_rel, target)
                else:
                    total += member.size
                    if total > MAX_TOTAL_BYTES:
                        raise _unsafe(label, member.name, f"unpacks to more than {MAX_TOTAL_BYTES} bytes")
                    _write_file(archive, member, target)
                kept_vendor = kept_vendor or rel != f"codex-{TRIPLE}"
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise UserError(f"{label} is not a readable .tgz ({exc}): retry, or use another registry") from None
    if kept_vendor and (root / f"codex-{TRIPLE}").exists():
        (root / f"codex-{TRIPLE}").unlink()  # both layouts present: the vendor tree is the real one
    if not any(root.iterdir()):
        raise NoLinuxBuild(
            f"{label} contains no Linux x64 codex build (neither {VENDOR_PREFIX} nor {LEGACY_BINARY}): "
            "pick a codex-cli version of the Rust era (0.20.0 or later)"
        )


def _check_member(member: tarfile.TarInfo, path: str, label: str) -> None:
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise _unsafe(label, member.name, "device, fifo or other special file")
    if member.issym():
        link = member.linkname
        if link.startswith("/"):
            raise _unsafe(label, member.name, f"absolute symlink to {link!r}")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
        if resolved == ".." or resolved.startswith("../"):
            raise _unsafe(label, member.name, f"symlink escaping the package to {link!r}")
    if member.islnk():
        _package_path(member.linkname, label)


def _check_inside(root: Path, directory: Path, label: str, name: str) -> None:
    """Catch writes through a symlinked parent directory that resolves outside ``root``."""
    real = Path(os.path.realpath(directory))
    if real != root and root not in real.parents:
        raise _unsafe(label, name, "path resolves outside the target directory")


def _link_inside(root: Path, target: Path, linkname: str, label: str, name: str) -> None:
    """Symlinks are kept only when they stay inside the kept tree (not merely inside the package)."""
    resolved = Path(os.path.normpath(target.parent / linkname))
    if resolved != root and root not in resolved.parents:
        raise _unsafe(label, name, f"symlink pointing outside the kept tree to {linkname!r}")
    target.unlink(missing_ok=True)
    os.symlink(linkname, target)


def _write_file(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = archive.extractfile(member)
    if source is None:  # pragma: no cover - regular members always have data
        raise UserError(f"cannot read {member.name} from the tarball: retry the fetch")
    mode = 0o755 if member.mode & 0o111 else 0o644
    # O_NOFOLLOW: never write through a symlink an earlier member planted at this name.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with source, os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)
    os.chmod(target, mode)


def locate_binary(tree: Path) -> str:
    """Relative path of the codex executable; ``codex-package.json`` (0.150+) names it explicitly."""
    candidates = list(BINARY_CANDIDATES)
    manifest = tree / "codex-package.json"
    if manifest.is_file():
        try:
            entry = json.loads(manifest.read_text(encoding="utf-8")).get("entrypoint")
        except (ValueError, AttributeError):
            entry = None
        if isinstance(entry, str) and ".." not in PurePosixPath(entry).parts and not entry.startswith("/"):
            candidates.insert(0, entry)
    for rel in candidates:
        path = tree / rel
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o755)
            return rel
    raise UserError(
        f"no codex executable in the Linux x64 build (looked for {', '.join(candidates)}): "
        "this packaging is unknown to codex-native-matrix; pick another version or report it"
    )
