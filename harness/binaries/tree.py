"""Content digest of an extracted build tree: what image tags are derived from.

The digest covers every file's relative path, kind (file/link), normalised mode and content hash, in
sorted order, so the same npm build always yields the same tag on any machine, and any change to a
helper binary (not just ``codex``) yields a new one. Per-file entries are kept in the cache metadata
so a later check can say *which* file changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileEntry:
    relpath: str
    kind: str  # "file" | "link"
    mode: int  # 0o755 / 0o644 for files, 0 for links
    size: int
    sha256: str  # content digest, or the link target for links

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "mode": self.mode, "size": self.size, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def scan(root: Path) -> list[FileEntry]:
    """Every non-directory below ``root``, sorted by relative path."""
    entries: list[FileEntry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = os.readlink(path)
                entries.append(FileEntry(rel, "link", 0, len(target), target))
            else:
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                entries.append(FileEntry(rel, "file", mode, path.stat().st_size, file_sha256(path)))
    entries.sort(key=lambda e: e.relpath)
    return entries


def tree_digest(entries: list[FileEntry]) -> str:
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.relpath}\0{entry.kind}\0{entry.mode:o}\0{entry.sha256}\n".encode())
    return digest.hexdigest()
