"""A container removal that Docker is already doing (``auto_remove`` after a kill) counts as done only
once the container is gone: the atlas removes the release's image right after, and an image still used
by a container cannot be removed (seen on a Ctrl-C mid-atlas: "conflict: unable to remove repository
reference … container … is using its referenced image")."""

from __future__ import annotations

from types import SimpleNamespace

import docker.errors
import pytest
import requests

from harness.run import teardown
from harness.run.job import JobRun
from harness.run.teardown import remove_container


def _in_progress() -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = 409
    return docker.errors.APIError("409 Client Error", response=response,
                                  explanation="removal of container abc is already in progress")


class _Container:
    def __init__(self, alive_polls: int) -> None:
        self.alive_polls, self.reloads = alive_polls, 0

    def remove(self, **kwargs: object) -> None:
        raise _in_progress()

    def reload(self) -> None:
        self.reloads += 1
        if self.reloads > self.alive_polls:
            raise docker.errors.NotFound("gone")


def _job(wrapped: _Container) -> JobRun:
    job = JobRun(plan=SimpleNamespace(name="codex0.117.0"))  # type: ignore[arg-type]
    job.container = SimpleNamespace(get_wrapped_container=lambda: wrapped)  # type: ignore[assignment]
    return job


def test_removal_in_progress_waits_until_the_container_is_gone() -> None:
    wrapped = _Container(alive_polls=3)
    assert remove_container(_job(wrapped)) is True
    assert wrapped.reloads == 4  # three polls saw it still there, the fourth found it gone


def test_removal_in_progress_that_never_ends_is_not_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teardown, "REMOVAL_WAIT_S", 0.3)
    wrapped = _Container(alive_polls=10**6)
    assert remove_container(_job(wrapped)) is False
    assert wrapped.reloads >= 2


class _NeverStarted:
    """testcontainers' DockerContainer after a failed ``start()``: asking for the container raises."""

    def get_wrapped_container(self) -> None:
        from testcontainers.core.exceptions import ContainerStartException

        raise ContainerStartException("Container is not started")


def test_a_container_that_never_started_is_gone_and_not_kept() -> None:
    """Teardown after a failed start must not raise: the start's own error is what the cell reports."""
    job = JobRun(plan=SimpleNamespace(name="codex0.169.0"))  # type: ignore[arg-type]
    job.container = _NeverStarted()  # type: ignore[assignment]
    assert teardown.started_container(job) is None
    assert remove_container(job) is True
    assert teardown.mark_kept(job) is False
