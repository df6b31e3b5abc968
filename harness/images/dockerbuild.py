"""Run a Dockerfile build through docker-py's low-level API so its log can feed ``Progress``.

``client.images.build`` only returns the log after the build ends; a base or 400 MB codex image takes
long enough that the user should see steps go by. The parameters are the same (pull=False, rm,
forcerm, labels, tag).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.progress import Progress

LOG_TAIL = 12


def build(client: Any, *, context: Path, tag: str, labels: dict[str, str], progress: Progress,
          buildargs: dict[str, str] | None = None, network_mode: str | None = None) -> str:
    """Build ``context/Dockerfile`` as ``tag``; returns the image id. Build errors become ``UserError``."""
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    try:
        stream = client.api.build(
            path=str(context), tag=tag, pull=False, rm=True, forcerm=True, labels=labels,
            buildargs=buildargs or {}, network_mode=network_mode, decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                tail.append(str(chunk["error"]).strip())
                raise _failed(tag, str(chunk["error"]).strip(), tail, progress)
            text = str(chunk.get("stream", "")).strip()
            for line in text.splitlines():
                if line.strip():
                    tail.append(line.strip())
                    progress.update(line.strip())
    except UserError:
        raise
    except Exception as exc:  # docker.errors.* and requests errors: the daemon went away or refused
        raise _failed(tag, f"{type(exc).__name__}: {exc}", tail, progress) from None
    return str(client.images.get(tag).id)


def _failed(tag: str, reason: str, tail: deque[str], progress: Progress) -> UserError:
    for line in tail:
        progress.note(f"  | {line}")
    first = reason.splitlines()[0] if reason else "unknown error"
    return UserError(f"docker build of {tag} failed ({first}): see the build log lines above; "
                     "check `docker info` and free disk space, then rerun")
