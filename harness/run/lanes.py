"""What a run needs for its foreign lanes before any container starts: their images and their files.

A run whose cells are all the python lane's gets nothing from here (same images, same mounts: the
default matrix is unchanged). For each build with a Node lane cell (the TypeScript SDK), the build's
image is swapped for its Node image (:mod:`harness.images.lanes`); every SDK version the cells name is
fetched into the SDK cache (integrity-checked, :mod:`harness.lanes.sdk_cache`) and mounted read-only at
``/cnm-lanes/codex-sdk/<version>`` (its ``package/``: ``package.json`` and ``dist/``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.images.base import ensure_base_image
from harness.images.lanes import ensure_node_image
from harness.lanes import sdk_cache
from harness.lanes.catalog import SCRIPT_RUNTIMES, parse_lane, script_mount
from harness.progress import NullProgress, Progress
from harness.suite.protocol import CONTAINER_LANES_DIR, CellSpec

#: Lane kinds whose adapter runs under Node.
NODE_KINDS = frozenset({"codex-sdk"})


def needs_node(lane_name: str) -> bool:
    lane = parse_lane(lane_name)
    return lane.kind in NODE_KINDS or (lane.path is not None and SCRIPT_RUNTIMES[Path(lane.path).suffix] == "node")


def script_mounts(cells: Sequence[CellSpec]) -> tuple[tuple[str, str], ...]:
    """(container path, host directory) of each script lane, after checking its program is there."""
    mounts: dict[str, str] = {}
    for cell in cells:
        lane = parse_lane(cell.lane)
        if lane.path is None:
            continue
        if not Path(lane.path).is_file():
            raise UserError(f"script lane {lane.path}: no such file: pass the path of your adapter program "
                            "(docs/lane-protocol.md), e.g. --lanes script:docs/examples/minimal-lane.mjs")
        mounts[script_mount(lane.path)] = str(Path(lane.path).parent)
    return tuple(mounts.items())


def sdk_versions(cells: Sequence[CellSpec]) -> list[str]:
    """The SDK versions the cells name, in cell order."""
    lanes = (parse_lane(c.lane) for c in cells if c.foreign)
    return list(dict.fromkeys(lane.version for lane in lanes if lane.kind == "codex-sdk" and lane.version))


def fetch_sdks(versions: Sequence[str], *, progress: Progress | None = None) -> dict[str, sdk_cache.CachedSdk]:
    """Every SDK version from the cache, fetching (and verifying) those it lacks; one packument read."""
    progress = progress or NullProgress()
    missing = [v for v in versions if sdk_cache.cached(v) is None]
    doc = None
    if missing:
        from harness.binaries import registry as npm

        base = npm.registry_url()
        base = base if base.endswith("/") else base + "/"
        progress.start(f"fetch {sdk_cache.PACKAGE} {', '.join(missing)}")
        doc = sdk_cache.packument(base)
        for version in missing:
            sdk_cache.check_version(version)
            sdk_cache.fetch_sdk(version, registry=base, doc=doc)
        progress.done(f"{len(missing)} version(s)")
    return {v: sdk_cache.fetch_sdk(v, doc=doc) for v in versions}


def sdk_mounts(sdks: Mapping[str, sdk_cache.CachedSdk]) -> tuple[tuple[str, str], ...]:
    """(container path, host path) per SDK version: the cache entry's ``package/``, read-only."""
    return tuple((f"{CONTAINER_LANES_DIR}/codex-sdk/{v}", str(Path(s.dist).parent)) for v, s in sdks.items())


def prepare(client: Any, cells: Sequence[CellSpec], images: Mapping[str, str], *, cache_dir: Path | None = None,
            progress: Progress | None = None) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """(images with Node where a build's cells need it, the lane mounts); unchanged for python-only cells."""
    progress = progress or NullProgress()
    out = dict(images)
    scripts = script_mounts(cells)
    node_builds = list(dict.fromkeys(c.version for c in cells if c.foreign and needs_node(c.lane)))
    if not node_builds:
        return out, scripts
    sdks = fetch_sdks(sdk_versions(cells), progress=progress)
    base_tag = ensure_base_image(client, progress=progress, cache_dir=cache_dir)
    for version in node_builds:
        out[version] = ensure_node_image(client, version, images[version], base_tag, cache_dir=cache_dir,
                                         progress=progress)
    return out, sdk_mounts(sdks) + scripts
