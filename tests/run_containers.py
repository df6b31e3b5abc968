"""This project's run containers on a daemon, for the leak checks of the integration and fault suites."""

from __future__ import annotations

from typing import Any


def run_containers(client: Any, pid: int | None = None) -> list[Any]:
    """Run containers in any state; only those of the run with ``pid`` when given (other runs may share
    the daemon).

    Listed through the low-level API, then fetched one by one, skipping any that is gone meanwhile:
    run containers remove themselves, and docker-py's ``containers.list`` fails on one that vanishes
    between its listing and its inspection.
    """
    import docker.errors

    from harness import labels

    wanted = [f"{labels.KIND}=run"] + ([f"{labels.OWNER_PID}={pid}"] if pid is not None else [])
    found = []
    for row in client.api.containers(all=True, filters={"label": wanted}):
        try:
            found.append(client.containers.get(row["Id"]))
        except docker.errors.NotFound:
            continue
    return found
