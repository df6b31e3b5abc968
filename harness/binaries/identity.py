"""Ask a freshly unpacked binary who it is, the way every codex run must be started.

This is the one place a downloaded build runs on the host itself (everything else runs it inside a
container), as the user who runs ``fetch`` — root on a CI runner. It runs only after the tarball
matched the registry's sha512 integrity, and it is fenced in:

* stdin is /dev/null (0.118+ reads stdin when it is not a TTY and would hang on an open pipe);
* the environment is a minimal one (no API keys or tokens of the caller's reach the binary), with
  HOME and CODEX_HOME pointing at a scratch dir, so it cannot touch the user's ~/.codex;
* stdout/stderr go to files, not pipes: a child that keeps them open cannot make us wait for EOF;
* it runs in its own process group with a hard timeout; when it exits (or the timeout hits) the whole
  group is killed, so nothing it started lingers;
* the scratch dir is removed in every case, timeouts and Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from harness.errors import UserError

TIMEOUT_S = 30.0
_OUTPUT_MAX = 64 * 1024


def can_run_here() -> bool:
    """The builds are static x86-64 Linux executables; on other hosts they only run in the image."""
    return platform.system() == "Linux" and platform.machine().lower() in ("x86_64", "amd64")


def version_line(binary: Path, *, timeout: float = TIMEOUT_S) -> str:
    """First stdout line of ``codex --version``, e.g. ``codex-cli 0.117.0``."""
    home = tempfile.mkdtemp(prefix="codex-home-")
    try:
        with tempfile.TemporaryFile(dir=home) as out, tempfile.TemporaryFile(dir=home) as err:
            env = {"PATH": "/usr/bin:/bin", "HOME": home, "CODEX_HOME": home, "RUST_LOG": "error",
                   "LANG": "C.UTF-8", "TMPDIR": home}
            try:
                proc = subprocess.Popen(
                    [str(binary), "--version"], stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                    cwd=home, start_new_session=True,
                )
            except OSError as exc:
                raise UserError(
                    f"cannot execute {binary} ({exc.strerror}): the build is not a Linux x64 executable "
                    "or the cache filesystem is mounted noexec; set CODEX_MATRIX_CACHE elsewhere"
                ) from None
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise UserError(f"`{binary} --version` did not exit within {timeout:.0f} s: the build is broken; "
                                "pick another version") from None
            finally:
                _kill_group(proc)
            stdout, stderr = _read(out), _read(err)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise UserError(
            f"`{binary} --version` failed (exit {proc.returncode}: {tail[0][:160]}): the build is broken; "
            "pick another version"
        )
    return lines[0].strip()[:200]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the probe and anything it started in its process group, then reap the probe."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read(_OUTPUT_MAX).decode(errors="replace")


def check_version_line(line: str, version: str, label: str) -> None:
    """The npm version and the binary's own claim must agree (``codex-cli 0.99.0`` for 0.99.0-linux-x64)."""
    if line != f"codex-cli {version}":
        raise UserError(f"{label} reports {line!r}, expected 'codex-cli {version}': the package carries a "
                        "binary of another version (the official registry's 0.1.2505191453 and 0.1.2505291658 "
                        "do), or the registry served another build; pick another version")
