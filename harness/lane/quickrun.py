"""Short informational codex invocations (``--version``, ``exec --help``) done one safe way.

stdin closed (newer builds read it and would hang on a pipe), an empty environment (the answer must
not depend on the host) and a timeout; any failure is ``None``, never an exception, because an
unidentifiable binary is a finding for the resolver, not a crash.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


def quick_output(argv: Sequence[str], timeout_s: float) -> str | None:
    """stdout of a successful run, decoded leniently; None on non-zero exit, timeout or OS error."""
    try:
        proc = subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True, env={}, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace")
