"""Remove what this project left in Docker, found only by its labels (never by name patterns).

By default only what can no longer be used goes: stopped project containers, run containers kept
for inspection (``--keep``: renamed ``…-kept``, their contract suite has ended), idle run containers
left by older versions (no owner labels), untagged project images, and images whose recipe (or base)
is not the current one. ``all_`` removes every project image not in ``keep``. Images still used by a
running container are skipped, not forced, and a run container whose suite is still running, or whose
run is still alive, is never touched, so a prune beside a live run is safe. Containers of runs that
are gone were already removed by :func:`harness.orphans.reap` (every command calls it first).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from harness import labels, orphans
from harness.images import recipes
from harness.images.lanes import lane_recipe

_STOPPED = ("created", "exited", "dead")
# The contract suite runs as `python3 -m pytest …` inside a run container; without it the container
# only sleeps, waiting for someone to `docker exec` into it.
_SUITE_MARKER = "pytest"


def prune(client: Any, *, keep: Collection[str] = (), all_: bool = False) -> list[str]:
    """Remove stale (or with ``all_``, all) project images and stopped project containers; returns them.

    ``keep`` holds image tags/ids and container ids/names that must survive.
    """
    import docker.errors

    removed: list[str] = []
    managed = {"label": f"{labels.MANAGED}=true"}
    for row in client.api.containers(all=True, filters=managed):  # low-level: see orphans.run_containers
        try:
            container = client.containers.get(row["Id"])
        except docker.errors.NotFound:
            continue  # it went by itself meanwhile
        if {container.id, container.short_id, container.name} & set(keep):
            continue
        owner = orphans.owner_of(container.labels or {})
        if owner is not None and owner.alive():
            continue  # a live run's container (even one still being created): that run decides
        if container.status in _STOPPED:
            what = ""
        elif not is_idle_run(container):
            continue
        elif orphans.is_kept(str(container.name)):
            what = ", kept for inspection"
        elif owner is None:
            what = ", idle: left by an older codex-matrix"
        else:
            continue  # a run on another host: it decides what happens to it
        try:
            container.remove(v=True, force=True)
        except docker.errors.APIError:  # gone meanwhile, or the daemon refused: not ours to force
            continue
        removed.append(f"container {container.name} ({container.short_id}{what})")
    current_base = recipes.base_recipe()
    current_codex = recipes.codex_recipe()
    current_base_tag = recipes.base_tag(current_base)
    images = client.images.list(filters=managed)
    # Children before parents: a base image cannot go while a codex image is built on it, nor a codex image
    # while a lane image (harness.images.lanes) is.
    images.sort(key=lambda image: {"lane-node": -1, "codex": 0}.get(image.labels.get(labels.KIND, ""), 1))
    for image in images:
        if image.id in keep or any(tag in keep for tag in image.tags):
            continue
        if not (all_ or not image.tags or _stale(image.labels, current_base.short, current_codex.short,
                                                 current_base_tag)):
            continue
        try:
            for ref in image.tags or [image.id]:
                client.images.remove(ref, noprune=False)
                removed.append(f"image {ref}")
        except docker.errors.APIError:
            continue  # in use by a running container, or a child image was kept
    return removed


def is_idle_run(container: Any) -> bool:
    """A running run container whose contract suite has ended (only its lifetime sleep is left)."""
    import docker.errors

    if container.status != "running" or container.labels.get(labels.KIND) != "run":
        return False
    try:
        processes = container.top().get("Processes") or []
    except docker.errors.APIError:
        return False  # gone or not inspectable: leave it alone
    return not any(_SUITE_MARKER in " ".join(row) for row in processes)


def _stale(found: dict[str, str], base_recipe: str, codex_recipe: str, base_tag: str) -> bool:
    kind = found.get(labels.KIND)
    if kind == "base":
        return found.get(labels.RECIPE) != base_recipe
    if kind == "codex":
        return found.get(labels.RECIPE) != codex_recipe or found.get(labels.BASE) != base_tag
    if kind == "lane-node":
        return found.get(labels.RECIPE) != lane_recipe().short
    return True
