"""One exception type for problems the user can fix.

The CLI turns a ``UserError`` into a single line on stderr and a non-zero exit; anything else is a bug
and keeps its traceback. Messages must name the problem *and* the fix, e.g.
``unknown version 9.9.9 on the npm registry: pick one from `npm view @openai/codex versions` ``.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with input or environment that the user can fix; message = problem + fix."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


#: What only a mistake in this code raises: a per-item ``except Exception`` that records a broken item
#: and goes on (the atlas's releases) lets these out, so a harness bug fails the command instead of
#: being written down as a release's error.
HARNESS_BUGS: tuple[type[BaseException], ...] = (AssertionError, AttributeError, ImportError, NameError, TypeError)


#: errno values a user fixes (free space, pick a writable place, fix a path); anything else is a bug.
_USER_FIXABLE = {
    "ENOSPC": "free disk space",
    "EDQUOT": "free space within your disk quota",
    "EROFS": "pick a directory on a writable filesystem",
    "EACCES": "pick a directory you may write to, or fix its permissions",
    "EPERM": "pick a directory you may write to, or fix its permissions",
    "ENOTDIR": "a component of the path is a file: pick another path",
    "EISDIR": "the path is a directory: pick another path",
    "ENAMETOOLONG": "pick a shorter path",
    "ELOOP": "the path has a symlink loop: pick another path",
    "EMFILE": "raise the open-files limit (ulimit -n)",
    "ENFILE": "close other programs or raise the system's open-files limit",
    "EIO": "the disk reports an I/O error: check it (dmesg), or pick another directory",
}


def from_os_error(exc: OSError, doing: str = "") -> UserError | None:
    """A one-line ``UserError`` for an ``OSError`` the user can fix (disk full, read-only, permissions…).

    ``doing`` says what was being done ("writing the reports to out/"); the message names the file, the
    system's reason and the fix. Returns None for errors that point at a bug rather than the environment.
    """
    import errno as errno_mod

    name = errno_mod.errorcode.get(exc.errno or 0, "")
    fix = _USER_FIXABLE.get(name)
    if fix is None:
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or name
    what = f"{doing}: " if doing else ""
    return UserError(f"{what}{where}{reason}: {fix}")
