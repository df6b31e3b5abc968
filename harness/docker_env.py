"""The one way the harness obtains a Docker client: fail fast, with a fix, when no daemon answers.

The Python side never starts dockerd (that needs root and belongs to ``.ci/bootstrap``). The probe
uses a short timeout so a dead socket is reported in seconds; the returned client uses a long one,
because a build step or a 400 MB context upload can be silent for minutes.

Which daemon: ``DOCKER_HOST`` when set, else the current docker context (``DOCKER_CONTEXT``, else
``currentContext`` in the docker CLI's config.json, as ``docker context use`` sets it), else the local
socket. A context is resolved once and exported as ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` and
``DOCKER_CERT_PATH`` for a TLS endpoint) in this process, so every client agrees on it: docker-py of
any version, testcontainers' own client, and the docker CLI. A daemon on another machine cannot
bind-mount this one's paths: :mod:`harness.run.transfer` copies the files through the API instead.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from harness.errors import UserError

PROBE_TIMEOUT_S = 5
CLIENT_TIMEOUT_S = 900
LOCAL_SOCKET = "unix:///var/run/docker.sock"


def _config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG", "").strip() or Path.home() / ".docker")


def current_context() -> str | None:
    """The docker CLI's current context name, or None for the built-in ``default``."""
    name = os.environ.get("DOCKER_CONTEXT", "").strip()
    if not name:
        try:
            data = json.loads((_config_dir() / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        name = str(data.get("currentContext") or "") if isinstance(data, dict) else ""
    return name if name and name != "default" else None


def context_endpoint(name: str) -> tuple[str, Path | None, bool]:
    """(host, TLS material dir or None, verify) of a context, read from the docker CLI's context store:
    ``contexts/meta/<sha256(name)>/meta.json`` and ``contexts/tls/<sha256(name)>/docker/``."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    store = _config_dir() / "contexts"
    try:
        meta = json.loads((store / "meta" / digest / "meta.json").read_text(encoding="utf-8"))
        endpoint = meta["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"docker context {name!r} does not exist or has no docker endpoint (looked in {store}): "
                        "`docker context ls` lists the valid ones; `docker context use default` or DOCKER_HOST "
                        "picks another daemon") from None
    tls = store / "tls" / digest / "docker"
    return host, tls if tls.is_dir() else None, not endpoint.get("SkipTLSVerify", False)


def use_docker_context() -> str | None:
    """Export the current context's endpoint as DOCKER_HOST (unless DOCKER_HOST is set); returns the name.

    A context that does not exist is a UserError naming it, as ``docker`` itself refuses to run then.
    """
    if os.environ.get("DOCKER_HOST", "").strip():
        return None
    name = current_context()
    if name is None:
        return None
    host, tls, verify = context_endpoint(name)
    os.environ["DOCKER_HOST"] = host
    if tls is not None:
        os.environ["DOCKER_CERT_PATH"] = str(tls)
        if verify:
            os.environ["DOCKER_TLS_VERIFY"] = "1"
    return name


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "").strip() or LOCAL_SOCKET


def docker_client(*, timeout: int = CLIENT_TIMEOUT_S) -> Any:
    """A ``docker.DockerClient`` that has answered a ping; ``UserError`` otherwise."""
    import docker

    context = use_docker_context()
    where = docker_host() + (f" (docker context {context})" if context else "")
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
            f"no Docker daemon answers at {where} ({reason}): start one (as root: `bash .ci/bootstrap` "
            "or `dockerd &`), or point DOCKER_HOST or `docker context use` at one"
        ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Permission denied", "No such file or directory", "Connection refused", "timed out"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:120] if text else type(exc).__name__
