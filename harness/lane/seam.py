"""The seam: one ``codex exec --json`` run with a closed stdin, a built environment and a hard timeout.

Argv: ``<codex> exec --json --skip-git-repo-check [--ephemeral] -C <cwd> [-c key=value …] -- <prompt>``.
``-c`` goes after ``exec`` (every build 0.20–0.169 lists it among exec's own options) and ``--`` ends
the options so a prompt starting with ``-`` is never read as a flag; both verified on 0.20.0, 0.42.0,
0.44.0, 0.80.0, 0.98.0, 0.117.0, 0.130.0, 0.142.0 and 0.169.0.

Why each rule:

* **stdin is /dev/null**: from 0.118 exec reads stdin to EOF even when a prompt is given, and hangs
  forever on an open pipe.
* **The environment is built, not inherited**: PATH, HOME, CODEX_HOME, LANG, the credential, and only
  the extras the caller names. A host variable (a stray ``OPENAI_BASE_URL``, ``RUST_LOG``, a proxy)
  would otherwise change what the build does and make results unreproducible.
* **The credential is an explicit key**: ``CODEX_API_KEY``, which exec honours from 0.44.0. Builds
  before 0.44.0 ignore it; for them the key goes in ``OPENAI_API_KEY`` instead, which 0.20–0.34 read
  (measured on 0.20.0). 0.36–0.42 read neither and need ``auth.json`` — those builds are legacy-protocol
  and the resolver already marks them degraded.
* **A new session and a process-group kill**: codex spawns shells and helpers; killing only the leader
  would leave them running and holding the pipes open. The leader is not reaped until the group has
  been killed, so its pid (= the group id) cannot be reused by an unrelated process in between.
  Survivors of a normal exit are killed too: everything in the group belongs to this run.
* **On a timeout, the tool commands' groups too**: codex runs each tool command in a process group of
  its own (measured on 0.117.0 and 0.169.0: the shell's pgid is its own pid), so a kill of codex's
  group leaves a running command and its children alive (a ``sleep`` outlived the run, orphaned). While
  codex still runs, its descendants are found through ``/proc`` parent links, and each descendant's
  group is killed with codex's (:mod:`harness.lane.proctree`).
* **After a normal exit, the groups of codex's session too**: what a command left running (a detached
  ``sleep``) outlives codex on some builds. Measured with codex alone: 0.44.0 runs commands in its own
  group (the group kill reaches them), 0.98.0, 0.117.0 and 0.169.0 start them in sessions of their own
  and kill them when they exit, but 0.80.0 puts them in groups of their own inside codex's session and
  leaves them running. Once codex exited no parent link leads to them; the session still does, so
  every group in codex's session is killed as well (the contract's ``leftover-child`` world checks
  that nothing of a command outlives a normal exit, on every build).
* **stdout and stderr drained by threads**: a child blocked writing a full stderr pipe while we wait
  on stdout (or the reverse) is a deadlock, and codex can write megabytes to either.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from harness.lane.credentials import Credential
from harness.lane.events import Policy
from harness.lane.executable import Executable, release_of
from harness.lane.probe import THREAD_EVENTS_SINCE, Capabilities, probe
from harness.lane.proctree import descendant_groups, kill_group, session_groups, wait_exit

#: PATH the child gets unless ``extra_env`` names one: enough for the shells codex runs as tools.
DEFAULT_CHILD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Flags every seam invocation needs; a build without one of them cannot be driven at all.
REQUIRED_FLAGS: tuple[str, ...] = ("--json", "--skip-git-repo-check", "--cd")
#: Seconds between SIGTERM to the group and SIGKILL.
TERM_GRACE_S = 2.0
#: Seconds to wait for the reader threads once the group is gone (a process that escaped the group with
#: its own setsid could keep a pipe open forever; we then return what was read).
DRAIN_GRACE_S = 2.0


@dataclass(frozen=True)
class SeamRequest:
    executable: Executable
    prompt: str
    cwd: Path
    policy: Policy
    codex_home: Path
    credential: Credential
    config_overrides: tuple[str, ...] = ()
    timeout_s: float = 120.0
    extra_env: Mapping[str, str] = field(default_factory=dict)
    capabilities: Capabilities | None = None
    #: Called with each chunk of stdout as it arrives (live progress for an embedding program); an
    #: exception it raises is ignored, so an observer can never break the run or lose output.
    stdout_observer: Callable[[bytes], None] | None = None


@dataclass(frozen=True)
class SeamResult:
    argv: tuple[str, ...]
    exit_code: int | None
    timed_out: bool
    stdout: bytes
    stderr: bytes
    duration_s: float
    started_at: str
    #: The child's pid, which is also the id of the process group the seam killed at the end.
    pid: int | None = None


class SeamRefused(Exception):
    """The run was not started because it could not be done truthfully; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def credential_env_var(executable: Executable) -> str:
    """The variable the child reads its key from: CODEX_API_KEY, or OPENAI_API_KEY before 0.44.0."""
    parsed = release_of(executable.version)
    if parsed is not None and parsed < THREAD_EVENTS_SINCE:
        return "OPENAI_API_KEY"
    return "CODEX_API_KEY"


def _check_overrides(overrides: tuple[str, ...]) -> None:
    for item in overrides:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip() or key != key.strip():
            raise ValueError(f"config override {item!r} is not key=value: write it as e.g. 'model=\"gpt-5\"'")


def build_argv(req: SeamRequest, caps: Capabilities) -> list[str]:
    """The invocation for ``req`` on a build with ``caps``; raises SeamRefused when it can't be honest."""
    missing = [flag for flag in REQUIRED_FLAGS if flag not in caps.flags]
    if missing:
        raise SeamRefused(
            f"{_name(req.executable)} lacks {', '.join(missing)} in `codex exec --help`: "
            "the seam cannot drive this build"
        )
    if req.policy == "ephemeral" and not caps.supports_ephemeral:
        raise SeamRefused(
            f"ephemeral run refused: {_name(req.executable)} has no --ephemeral (added in 0.99.0), "
            "and running it would silently persist the session; use the persistent policy or a newer build"
        )
    _check_overrides(req.config_overrides)
    argv = [req.executable.path, "exec", "--json", "--skip-git-repo-check"]
    if req.policy == "ephemeral":
        argv.append("--ephemeral")
    argv += ["-C", str(req.cwd)]
    for item in req.config_overrides:
        argv += ["-c", item]
    argv += ["--", req.prompt]
    return argv


def build_env(req: SeamRequest) -> dict[str, str]:
    """PATH, HOME (``codex_home``'s parent unless given), CODEX_HOME, LANG, the key, then ``extra_env``."""
    env = {
        "PATH": DEFAULT_CHILD_PATH,
        "HOME": str(req.codex_home.parent),
        "CODEX_HOME": str(req.codex_home),
        "LANG": "C.UTF-8",
    }
    if req.credential.source == "explicit-api-key" and req.credential.key:
        env[credential_env_var(req.executable)] = req.credential.key
    env.update(req.extra_env)
    return env


def _name(executable: Executable) -> str:
    return executable.version_line or executable.path


def _drain(stream: IO[bytes], sink: bytearray, observer: Callable[[bytes], None] | None = None) -> None:
    fd = stream.fileno()
    while chunk := os.read(fd, 65536):
        sink += chunk
        if observer is not None:
            with contextlib.suppress(Exception):
                observer(chunk)


def _kill_tree(pid: int, groups: set[int], sig: int) -> None:
    """Signal the leader's group and every group a descendant of the leader was seen in."""
    for pgid in {pid, *groups}:
        kill_group(pgid, sig)


def run_seam(req: SeamRequest) -> SeamResult:
    """Run once; ``exit_code`` None and ``timed_out`` True when the hard timeout killed the group."""
    caps = req.capabilities if req.capabilities is not None else probe(req.executable)
    argv = build_argv(req, caps)
    if not req.cwd.is_dir():
        raise SeamRefused(f"working directory {req.cwd} does not exist: create it before the run")
    env = build_env(req)
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=req.cwd,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:  # vanished or no longer executable since discovery: nothing ran
        raise SeamRefused(f"could not start {req.executable.path}: {exc.strerror or exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out, req.stdout_observer), daemon=True,
                         name="seam-stdout"),
        threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True, name="seam-stderr"),
    ]
    for reader in readers:
        reader.start()
    timed_out = not wait_exit(proc.pid, t0 + max(req.timeout_s, 0.0))
    groups: set[int] = set()
    if timed_out:  # codex still runs: its descendants can still be found through their parent links
        groups = descendant_groups(proc.pid)
        _kill_tree(proc.pid, groups, signal.SIGTERM)
        wait_exit(proc.pid, time.monotonic() + TERM_GRACE_S)
    groups |= session_groups(proc.pid)  # what codex left in its session (the leader is not reaped yet)
    _kill_tree(proc.pid, groups, signal.SIGKILL)  # leftovers of a normal exit, or whatever ignored SIGTERM
    returncode = proc.wait()
    drain_deadline = time.monotonic() + DRAIN_GRACE_S
    for reader in readers:
        reader.join(max(drain_deadline - time.monotonic(), 0.0))
    duration = time.monotonic() - t0
    if not any(reader.is_alive() for reader in readers):
        proc.stdout.close()
        proc.stderr.close()
    return SeamResult(
        argv=tuple(argv),
        exit_code=None if timed_out else returncode,
        timed_out=timed_out,
        stdout=bytes(out),
        stderr=bytes(err),
        duration_s=round(duration, 3),
        started_at=started_at,
        pid=proc.pid,
    )
