"""Which codex binary a run uses, and how we know: the executable identity every run reports.

Discovery order is explicit path, then ``CODEX_CLI_PATH``, then ``PATH``. A location the user *named*
(explicit or ``CODEX_CLI_PATH``) that does not hold an executable is a miss, not a cue to fall through
to whatever ``codex`` happens to be on PATH: silently running another build than the one the user
pointed at would make every result about the wrong version.

The path is made absolute but symlinks are not resolved: identity is what the user pointed at (an npm
shim, a version-manager link), which is also what they will type to reproduce a run.

``codex --version`` is cached per file identity (device, inode, size, mtime), because the resolver and
the runner both discover the binary and a 280 MB static build is slow to start cold.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from harness.lane.quickrun import quick_output

ExecutableSource = Literal["explicit", "env", "system-path"]

#: Environment variable naming the codex binary; second in the discovery order.
CODEX_CLI_PATH_ENV = "CODEX_CLI_PATH"

_VERSION_LINE = re.compile(r"^codex-cli (?P<version>\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)\s*$")
_VERSION_TIMEOUT_S = 15.0
_FileId = tuple[int, int, int, int]
_version_cache: dict[_FileId, tuple[str | None, str | None]] = {}


@dataclass(frozen=True)
class Executable:
    """A discovered codex binary; ``version`` is None when ``--version`` gave no ``codex-cli X.Y.Z``."""

    path: str
    source: ExecutableSource
    version_line: str | None
    version: str | None


def release_of(text: str | None) -> tuple[int, int, int] | None:
    """The (major, minor, patch) an npm version starts with: ``"0.117.0"`` (or ``"0.99.0-linux-x64"``, a local
    build's ``"0.117.0-local.3f9a1c2e"``) → ``(0, 117, 0)``; None for anything else. Not a validator: that is
    :func:`harness.npmversion.parse_version`, which keeps the npm spelling or refuses it."""
    if not text:
        return None
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", text.strip())
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def parse_version_line(output: str) -> tuple[str | None, str | None]:
    """First ``codex-cli X.Y.Z`` line of ``--version`` output → (line, version); (None, None) if absent."""
    for raw in output.splitlines():
        line = raw.strip()
        match = _VERSION_LINE.fullmatch(line)
        if match is not None:
            return line, match["version"]
    return None, None


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _file_id(path: str) -> _FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def read_version(path: str) -> tuple[str | None, str | None]:
    """Run ``<path> --version`` (stdin closed, empty environment, timeout) → (version_line, version).

    The environment is empty on purpose: the answer must not depend on the host, and ``--version``
    needs nothing. Failures (non-zero exit, timeout, garbage) give (None, None), never an exception:
    an unidentifiable binary is a finding the resolver reports, not a crash.
    """
    file_id = _file_id(path)
    if file_id is not None and file_id in _version_cache:
        return _version_cache[file_id]
    output = quick_output([path, "--version"], _VERSION_TIMEOUT_S)
    result = parse_version_line(output) if output is not None else (None, None)
    if file_id is not None:
        _version_cache[file_id] = result
    return result


def _identify(path: str, source: ExecutableSource) -> Executable:
    version_line, version = read_version(path)
    return Executable(path=path, source=source, version_line=version_line, version=version)


def _named_location(explicit: str | None, env: Mapping[str, str]) -> tuple[str, ExecutableSource] | None:
    if explicit:
        return explicit, "explicit"
    named = env.get(CODEX_CLI_PATH_ENV, "")
    if named:
        return named, "env"
    return None


def discover_executable(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Executable | None:
    """Explicit path, then ``CODEX_CLI_PATH``, then ``codex`` on env's ``PATH``; None if not found.

    ``env`` defaults to ``os.environ``; pass a mapping to discover on behalf of another environment.
    """
    env = os.environ if env is None else env
    named = _named_location(explicit, env)
    if named is not None:
        location, source = named
        path = os.path.abspath(os.path.expanduser(location))
        return _identify(path, source) if _is_executable_file(path) else None
    found = shutil.which("codex", path=env.get("PATH", ""))
    if found is None:
        return None
    return _identify(os.path.abspath(found), "system-path")


def describe_miss(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Where discovery looked, for a one-line 'not found' reason a user can act on."""
    env = os.environ if env is None else env
    named = _named_location(explicit, env)
    if named is not None:
        location, source = named
        where = "the explicit codex path" if source == "explicit" else CODEX_CLI_PATH_ENV
        return f"{where} {location!r} is not an executable file"
    if not env.get("PATH"):
        return "PATH is empty, so no codex could be found on it"
    return "no `codex` executable on PATH"
