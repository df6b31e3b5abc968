"""Integration tests drive real containers: they need a Docker daemon and skip with the reason otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.errors import UserError


@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    from harness.docker_env import docker_client as connect

    try:
        return connect()
    except UserError as exc:
        if __import__("os").environ.get("CI"):
            raise  # CI must never silently skip the real-container tests
        pytest.skip(str(exc))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def run_containers(docker_client) -> Callable[..., list[Any]]:  # type: ignore[no-untyped-def]
    """``run_containers(pid=None)``: this project's run containers (all states), those of the run with
    that pid only when given (other runs may share the daemon), for leak checks around a run.

    Listed through the low-level API, then fetched one by one, skipping any that is gone meanwhile:
    run containers remove themselves, and docker-py's ``containers.list`` fails on one that vanishes
    between its listing and its inspection.
    """
    import docker.errors

    from harness import labels

    def find(pid: int | None = None) -> list[Any]:
        wanted = [f"{labels.KIND}=run"] + ([f"{labels.OWNER_PID}={pid}"] if pid is not None else [])
        found = []
        for row in docker_client.api.containers(all=True, filters={"label": wanted}):
            try:
                found.append(docker_client.containers.get(row["Id"]))
            except docker.errors.NotFound:
                continue
        return found

    return find
