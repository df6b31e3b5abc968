"""Run containers whose harness is gone: found by their owner labels, removed by whichever command runs next.

A run removes its own containers, even on Ctrl-C. What it cannot survive is SIGKILL (the OOM killer, a
CI hard cancel) or a Docker daemon that stopped answering mid-run: then its containers live on until
their own deadline (see :func:`harness.run.containers.lifetime_s`). Every command that talks to the
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
    name: str
    owner: Owner


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


def is_kept(container: Any) -> bool:
    """Kept for inspection on purpose (``--keep``): the run renamed it with the kept suffix."""
    return str(container.name).endswith(labels.KEPT_SUFFIX)


def find(client: Any) -> list[tuple[Any, Orphan]]:
    """Run containers (any state) whose owner is provably gone, excluding those kept on purpose."""
    found = []
    for container in client.containers.list(all=True, filters={"label": f"{labels.KIND}=run"}):
        if is_kept(container):
            continue
        owner = owner_of(container.labels or {})
        if owner is not None and owner.alive() is False:
            found.append((container, Orphan(str(container.name), owner)))
    return found


def reap(client: Any) -> str | None:
    """Remove orphaned run containers; one line saying what went (None when nothing did)."""
    import docker.errors

    removed: list[Orphan] = []
    for container, orphan in find(client):
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass  # its own deadline (auto-remove) was first
        except docker.errors.APIError:
            continue
        removed.append(orphan)
    if not removed:
        return None
    owners = list(dict.fromkeys(o.owner.describe() for o in removed))
    names = ", ".join(o.name for o in removed[:4]) + (f" and {len(removed) - 4} more" if len(removed) > 4 else "")
    return (f"removed {len(removed)} run container{'s' if len(removed) != 1 else ''} whose codex-matrix run is "
            f"gone ({'; '.join(owners[:2])}{' …' if len(owners) > 2 else ''}): {names}")
