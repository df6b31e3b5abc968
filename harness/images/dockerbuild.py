"""Run a Dockerfile build through docker-py's low-level API so its log can feed ``Progress``.

``client.images.build`` only returns the log after the build ends; a base or 400 MB codex image takes
long enough that the user should see steps go by. The parameters are the same (pull=False, rm,
forcerm, labels, tag).

The build context is streamed to the daemon as a tar written on the fly. docker-py's own
``path=`` mode first writes the whole tar to a temp file: one more copy of a 300-450 MB codex tree on
disk during every build (measured in the atlas: /tmp grew by 334 MB per build). ``context_sent`` is
called once the daemon has the whole context, so a caller may free the context's files before the
build's steps run (the atlas drops the release's cached tree there).
"""

from __future__ import annotations

import os
import tarfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.progress import Progress

LOG_TAIL = 12
#: Bytes per chunk of the streamed context.
CHUNK = 1 << 20


def build(client: Any, *, context: Path, tag: str, labels: dict[str, str], progress: Progress,
          buildargs: dict[str, str] | None = None, network_mode: str | None = None,
          context_sent: Callable[[], None] | None = None) -> str:
    """Build ``context/Dockerfile`` as ``tag``; returns the image id. Build errors become ``UserError``."""
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    try:
        stream = client.api.build(
            fileobj=context_tar(context, context_sent), custom_context=True, tag=tag, pull=False, rm=True,
            forcerm=True, labels=labels, buildargs=buildargs or {}, network_mode=network_mode, decode=True,
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


def context_tar(context: Path, sent: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The tar of ``context``'s contents (names relative to it, symlinks kept), produced by a writer
    thread into a pipe and yielded in chunks; ``sent`` runs after the last chunk was taken."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            with os.fdopen(write_fd, "wb") as sink, tarfile.open(fileobj=sink, mode="w|") as tar:
                for name in sorted(os.listdir(context)):
                    tar.add(str(context / name), arcname=name)
        except BrokenPipeError:  # the reader stopped (the upload failed): nothing more to send
            pass
        except BaseException as exc:  # an unreadable file: the build must fail, not get a cut tar
            failure.append(exc)

    writer = threading.Thread(target=write, name="build-context", daemon=True)
    writer.start()
    with os.fdopen(read_fd, "rb") as source:  # closed on any exit: a blocked writer gets EPIPE
        while chunk := source.read(CHUNK):
            yield chunk
    writer.join()
    if failure:
        raise OSError(f"cannot read the build context {context}: {failure[0]}") from failure[0]
    if sent is not None:
        sent()
