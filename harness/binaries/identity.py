"""Ask a freshly unpacked binary who it is, the way every codex run must be started.

stdin is /dev/null (0.118+ reads stdin when it is not a TTY and would hang on an open pipe) and the
process group is killed on timeout (0.20.0 hangs after errors). CODEX_HOME points at a scratch dir so
even a misbehaving build cannot touch the user's ~/.codex.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import tempfile
from pathlib import Path

from harness.errors import UserError

TIMEOUT_S = 30.0


def can_run_here() -> bool:
    """The builds are static x86-64 Linux executables; on other hosts they only run in the image."""
    return platform.system() == "Linux" and platform.machine().lower() in ("x86_64", "amd64")


def version_line(binary: Path, *, timeout: float = TIMEOUT_S) -> str:
    """First stdout line of ``codex --version``, e.g. ``codex-cli 0.117.0``."""
    with tempfile.TemporaryDirectory(prefix="codex-home-") as home:
        env = {**os.environ, "CODEX_HOME": home, "RUST_LOG": "error"}
        try:
            proc = subprocess.Popen(
                [str(binary), "--version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=env, start_new_session=True,
            )
        except OSError as exc:
            raise UserError(
                f"cannot execute {binary} ({exc.strerror}): the build is not a Linux x64 executable "
                "or the cache filesystem is mounted noexec; set CODEX_MATRIX_CACHE elsewhere"
            ) from None
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise UserError(f"`{binary} --version` did not exit within {timeout:.0f} s: the build is broken; "
                            "pick another version") from None
    lines = out.decode(errors="replace").strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise UserError(
            f"`{binary} --version` failed (exit {proc.returncode}: {tail[0]}): the build is broken; "
            "pick another version"
        )
    return lines[0].strip()


def check_version_line(line: str, version: str, label: str) -> None:
    """The npm version and the binary's own claim must agree (``codex-cli 0.99.0`` for 0.99.0-linux-x64)."""
    if line != f"codex-cli {version}":
        raise UserError(f"{label} reports {line!r}, expected 'codex-cli {version}': the registry served a "
                        "different build than its metadata says; use the official registry")
