"""The one way the harness obtains a Docker client: fail fast, with a fix, when no daemon answers.

The Python side never starts dockerd (that needs root and belongs to ``.ci/bootstrap``). The probe
uses a short timeout so a dead socket is reported in seconds; the returned client uses a long one,
because a build step or a 400 MB context upload can be silent for minutes.
"""

from __future__ import annotations

import os
from typing import Any

from harness.errors import UserError

PROBE_TIMEOUT_S = 5
CLIENT_TIMEOUT_S = 900


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "").strip() or "unix:///var/run/docker.sock"


def docker_client(*, timeout: int = CLIENT_TIMEOUT_S) -> Any:
    """A ``docker.DockerClient`` that has answered a ping; ``UserError`` otherwise."""
    import docker

    try:
        probe = docker.from_env(timeout=PROBE_TIMEOUT_S)
        try:
            probe.ping()
        finally:
            probe.close()
        return docker.from_env(timeout=timeout)
    except Exception as exc:  # DockerException, requests ConnectionError/Timeout, PermissionError…
        reason = _reason(exc)
        raise UserError(
            f"no Docker daemon answers at {docker_host()} ({reason}): start one (as root: `bash .ci/bootstrap` "
            "or `dockerd &`) or set DOCKER_HOST"
        ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Permission denied", "No such file or directory", "Connection refused", "timed out"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:120] if text else type(exc).__name__
