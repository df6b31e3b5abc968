"""Run containers whose harness is gone: found by their owner labels, removed by whichever command runs next.

A run removes its own containers, even on Ctrl-C. What it cannot survive is SIGKILL (the OOM killer, a
CI hard cancel) or a Docker daemon that stopped answering mid-run: then its containers live on until
their own deadline (see :func:`harness.run.container_spec.lifetime_s`). Every command that talks to the
daemon calls :func:`reap` first, so they go at once when anything runs next.

A container is reaped only when this host can *prove* its owner is gone: same host name, same kernel
boot and pid namespace, and no process with that pid started at that time (:class:`harness.owner.Owner`).
Containers kept on purpose (``--keep``, renamed ``…-kept``), containers of live runs, containers of
runs on other hosts, and containers without owner labels (made by older versions) are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import labels
from harness.owner import Owner


@dataclass(frozen=True)
class Orphan:
    id: str
    name: str
    owner: Owner


def run_containers(client: Any) -> list[dict[str, Any]]:
    """Every run container (any state) as the daemon lists it: ``Id``, ``Names``, ``Labels``, ``State``.

    The low-level listing, not docker-py's ``containers.list``: that one inspects each container after
    listing it and fails when one goes in between, which run containers (auto-removed) do all the time.
    """
    return list(client.api.containers(all=True, filters={"label": f"{labels.KIND}=run"}))


def _name(row: dict[str, Any]) -> str:
    names = row.get("Names") or [""]
    return str(names[0]).lstrip("/")


def owner_of(container_labels: dict[str, str]) -> Owner | None:
    """The owner recorded in a run container's labels; None when it carries none."""
    if labels.OWNER_PID not in container_labels:
        return None
    return Owner.from_json({
        "host": container_labels.get(labels.OWNER_HOST, ""), "pid": container_labels.get(labels.OWNER_PID),
        "start": container_labels.get(labels.OWNER_START, ""),
        "instance": container_labels.get(labels.OWNER_INSTANCE, ""),
        "started": container_labels.get(labels.OWNER_STARTED, ""),
    })


def is_kept(name: str) -> bool:
    """Kept for inspection on purpose (``--keep``): the run renamed it with the kept suffix."""
    return name.endswith(labels.KEPT_SUFFIX)


def find(client: Any) -> list[Orphan]:
    """Run containers (any state) whose owner is provably gone, excluding those kept on purpose."""
    found = []
    for row in run_containers(client):
        name = _name(row)
        if is_kept(name):
            continue
        owner = owner_of(row.get("Labels") or {})
        if owner is not None and owner.alive() is False:
            found.append(Orphan(str(row["Id"]), name, owner))
    return found


def reap(client: Any) -> str | None:
    """Remove orphaned run containers; one line saying what went (None when nothing did)."""
    import docker.errors

    removed: list[Orphan] = []
    for orphan in find(client):
        try:
            client.api.remove_container(orphan.id, force=True, v=True)
        except docker.errors.NotFound:
            pass  # its own deadline (auto-remove) was first
        except docker.errors.APIError as exc:
            if not (exc.status_code == 409 and "in progress" in str(exc)):
                continue
        removed.append(orphan)
    if not removed:
        return None
    owners = list(dict.fromkeys(o.owner.describe() for o in removed))
    names = ", ".join(o.name for o in removed[:4]) + (f" and {len(removed) - 4} more" if len(removed) > 4 else "")
    return (f"removed {len(removed)} run container{'s' if len(removed) != 1 else ''} whose codex-matrix run is "
            f"gone ({'; '.join(owners[:2])}{' …' if len(owners) > 2 else ''}): {names}")
