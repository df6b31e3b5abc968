"""Run one lane adapter: request on stdin, result from stdout, a hard kill timeout, no survivors.

Why each rule (the same ones :mod:`harness.lane.seam` follows for codex itself):

* **Its own session, killed as a group**: an adapter starts codex (and codex starts shells); killing the
  adapter alone would leave codex running with the fake's connection open. After a normal exit the group
  is killed too: an SDK that returned early (or an adapter that gave up waiting) leaves its codex child
  behind, and everything in the group belongs to this run. The leader is not reaped until the group has
  been killed, so its pid (= the group id) cannot be reused by an unrelated process in between.
* **A timeout is ``hang``**, never ``crash``: the consumer did not answer, which is what its users see
  (an SDK has no timeout of its own before 0.63, and none by default after).
* **Everything else that is not a well-formed result is ``crash``** with a one-line reason: a dead
  adapter, a signal, an empty or malformed stdout (:func:`harness.lanes.protocol.parse_result`).
* **stdin written and stdout/stderr drained by threads**: a child that blocks on a full pipe while we
  wait on another one is a deadlock.

A process that leaves the group with its own ``setsid`` escapes the kill; no known consumer does that.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import IO

from harness.lane.proctree import kill_group, wait_exit
from harness.lanes.protocol import AdapterRequest, AdapterResult, ProtocolError, crash, first_line, parse_result

#: Seconds between SIGTERM to the group and SIGKILL.
TERM_GRACE_S = 2.0
#: Seconds to wait for the pipe readers once the group is gone.
DRAIN_GRACE_S = 2.0
#: stderr kept on a result (the end of it: where an exception's message is).
STDERR_TAIL_CHARS = 8000


def _drain(stream: IO[bytes], sink: bytearray) -> None:
    fd = stream.fileno()
    while chunk := os.read(fd, 65536):
        sink += chunk


def _feed(stream: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError):  # an adapter that exits without reading stdin is not our failure
        stream.write(data)
    with contextlib.suppress(OSError):
        stream.close()


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    return text[-STDERR_TAIL_CHARS:]


#: A stderr line that states an error: ``SyntaxError: …``, ``ValueError: …``, ``thread 'main' panicked at …``.
_ERROR_LINE = re.compile(r"^(?:Uncaught )?[A-Za-z_][\w.]*(?:Error|Exception|Panic)\b.*|.*\bpanicked at\b.*")
#: Lines a runtime prints after the error that say nothing about it.
_NOISE = re.compile(r"^(?:Node\.js v\d|at |\^+$)")


def _error_line(text: str) -> str:
    """The line of ``stderr`` that says what broke: the last error-looking line (Node prints its version
    after the stack, Python the exception last), else the last line that is not runtime noise."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if _ERROR_LINE.match(line):
            return first_line(line)
    quiet = [ln for ln in lines if not _NOISE.match(ln)]
    return first_line(quiet[-1]) if quiet else "no stderr"


def run_adapter(argv: Sequence[str], request: AdapterRequest, timeout_s: float, *, lane: str = "",
                env: Mapping[str, str] | None = None, cwd: str | None = None) -> AdapterResult:
    """Run ``argv`` with ``request`` on stdin; a result always comes back (see the module docstring).

    ``timeout_s`` is the hard kill, counted from the start; give the adapter its own budget
    (``request.timeout_s``) a few seconds below it so it can report what it saw before it gave up.
    ``lane`` names the lane in results the runner has to make up (crash, hang).
    """
    name = lane or (os.path.basename(argv[0]) if argv else "adapter")
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True,
                                close_fds=True)
    except OSError as exc:
        return crash(name, f"could not start the adapter {argv[0] if argv else '(empty argv)'}: "
                           f"{exc.strerror or exc}", wall_s=0.0)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    threads = [
        threading.Thread(target=_feed, args=(proc.stdin, (request.dumps() + "\n").encode()), daemon=True),
        threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True, name="adapter-stdout"),
        threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True, name="adapter-stderr"),
    ]
    for thread in threads:
        thread.start()
    timed_out = not wait_exit(proc.pid, t0 + max(timeout_s, 0.0))
    if timed_out:
        kill_group(proc.pid, signal.SIGTERM)
        wait_exit(proc.pid, time.monotonic() + TERM_GRACE_S)
    kill_group(proc.pid, signal.SIGKILL)  # leftovers of a normal exit (codex under an SDK that returned)
    returncode = proc.wait()
    deadline = time.monotonic() + DRAIN_GRACE_S
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    if not any(thread.is_alive() for thread in threads[1:]):
        proc.stdout.close()
        proc.stderr.close()
    wall = round(time.monotonic() - t0, 3)
    stderr = _tail(bytes(err))
    seen = {"adapter_exit_code": None if timed_out else returncode, "adapter_stderr": stderr, "wall_s": wall}
    if timed_out:
        return AdapterResult(lane=name, outcome="hang", error=f"no result within {timeout_s:g} s: the adapter "
                             "and everything it started were killed", **seen)  # type: ignore[arg-type]
    try:
        result = parse_result(bytes(out))
    except ProtocolError as exc:
        if returncode < 0:
            reason = f"adapter killed by signal {-returncode} ({_error_line(stderr)})"
        elif returncode != 0:
            reason = f"adapter exited {returncode} without a result: {_error_line(stderr)}"
        else:
            reason = f"adapter result malformed: {exc}"
        return crash(name, reason, **seen)
    return replace(result, **seen)  # type: ignore[arg-type]
