"""Paths built from data stay where the code put them: one name per part, checked again after joining.

Files that travel between machines (CI shards, repro bundles, logs) name cells and scenarios; those
names become directory names. A name like ``../../home`` or ``/etc`` must never reach ``Path /``, and
a symlink planted in a downloaded directory must not lead a join outside its root. :func:`safe_name`
checks one part; :func:`join_under` joins parts under a root the command owns and checks that the
result, with symlinks resolved, is still inside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import UserError

#: A directory name the code may create or read: letters, digits and ``._+-``, not starting with a dot.
_NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,199}")


def is_safe_name(text: object) -> bool:
    """One plain path part: no separator, not ``.``/``..``, no hidden file, no control character."""
    return isinstance(text, str) and _NAME.fullmatch(text) is not None


def safe_name(text: str, what: str) -> str:
    if not is_safe_name(text):
        raise UserError(f"{what} {text[:40]!r} is not a plain name (letters, digits, '._+-'): it cannot be a path")
    return text


def join_under(root: Path, *parts: str) -> Path | None:
    """``root/part/…`` when every part is a plain name and the result (symlinks resolved) stays inside
    ``root``; None otherwise. Existence is not checked."""
    if not all(is_safe_name(p) for p in parts):
        return None
    path = root.joinpath(*parts)
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return path if inside else None
