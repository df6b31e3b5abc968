"""How the package, the contract suite and a job's out dir reach a container: bind mounts or copies.

Bind mounts are the fast path, but they name paths on the daemon's machine: a daemon elsewhere (a CI
``docker:dind`` service, ``ssh://`` or ``tcp://`` to another host) would mount empty directories of its
own. There the files are copied instead, through the Docker API: a tar of the package, the suite and
the job's spec into the container before the suite starts, and the container's out dir back into the
job's raw dir when it ends (also after a timeout or an interrupt, so what was reported is kept).

A build run without an image of its own (:class:`harness.run.plan.MountedBuild`, the atlas's way) is
one more tree that goes either way: mounted read-only, or copied in beside the suite.

Binds are ``Mount`` objects, not ``src:dst:mode`` strings, so a path with ``:`` in it works.

``CODEX_MATRIX_TRANSFER=mount|copy`` decides; unset (``auto``): mount for a daemon on this machine (a
``unix://`` socket or a loopback ``tcp://`` address), copy for any other.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from docker.types import Mount

from harness import assets
from harness.errors import UserError
from harness.run.plan import JobPlan, RunOptions
from harness.suite import protocol

Mode = Literal["mount", "copy"]
ENV = "CODEX_MATRIX_TRANSFER"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
_SKIP = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def transfer_mode(docker_host: str) -> Mode:
    """``mount`` when the daemon sees this machine's paths, else ``copy`` (see the module doc)."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("mount", "copy"):
        return forced  # type: ignore[return-value]
    if forced not in ("", "auto"):
        raise UserError(f"{ENV}={forced!r}: use mount, copy or auto")
    url = urlsplit(docker_host)
    if url.scheme in ("unix", "npipe", "fd", ""):
        return "mount"
    return "mount" if url.scheme in ("tcp", "http", "https") and (url.hostname or "") in _LOCAL_HOSTS else "copy"


def _add_tree(tar: tarfile.TarFile, source: Path, target: PurePosixPath) -> None:
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if _SKIP & set(rel.parts) or path.suffix == ".pyc":
            continue
        info = tar.gettarinfo(str(path), arcname=str(target / PurePosixPath(*rel.parts)))
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if info.isfile():
            with path.open("rb") as fh:
                tar.addfile(info, fh)
        elif info.isdir() or info.issym():
            tar.addfile(info)


def lane_mounts(plan: JobPlan, options: RunOptions) -> tuple[tuple[str, str], ...]:
    """What the job's foreign lanes need (:mod:`harness.run.lanes`): only a job with such a cell gets it."""
    return options.lane_mounts if any(c.foreign for c in plan.cells) else ()


def mounts(plan: JobPlan, live: Path, slots: Path | None = None,
           lanes: tuple[tuple[str, str], ...] = ()) -> list[Mount]:
    """A job's binds: the package and the suite read-only, the staging dir read-write, a mounted
    build's tree read-only where its own image would have put it, and the machine's compute slots
    (:mod:`harness.suite.schedule`; a lock needs no write: read-only is enough)."""
    binds = [
        Mount(f"{protocol.CONTAINER_PACKAGE_ROOT}/harness", str(assets.PACKAGE_DIR), type="bind", read_only=True),
        Mount(protocol.CONTAINER_SUITE_DIR, str(assets.contract_dir()), type="bind", read_only=True),
        Mount(protocol.CONTAINER_OUT, str(live.resolve()), type="bind", read_only=False),
    ]
    if plan.mounted is not None:
        binds.append(Mount(plan.mounted.target, str(plan.mounted.root.resolve()), type="bind", read_only=True))
    if slots is not None:
        binds.append(Mount(protocol.CONTAINER_SLOTS, str(slots.resolve()), type="bind", read_only=True))
    # what foreign lanes need (the SDK's dist/, a script lane's directory): read-only
    binds.extend(Mount(inside, host, type="bind", read_only=True) for inside, host in lanes)
    return binds


def copied_trees(plan: JobPlan, live: Path, lanes: tuple[tuple[str, str], ...] = ()) -> list[tuple[Path, str]]:
    """What a remote daemon's container gets copied in instead of :func:`mounts`."""
    trees = [(assets.PACKAGE_DIR, f"{protocol.CONTAINER_PACKAGE_ROOT}/harness"),
             (assets.contract_dir(), protocol.CONTAINER_SUITE_DIR), (live, protocol.CONTAINER_OUT)]
    if plan.mounted is not None:
        trees.append((plan.mounted.root, plan.mounted.target))
    trees.extend((Path(host), inside) for inside, host in lanes)
    return trees


def copy_in(container: Any, trees: Iterable[tuple[Path, str]]) -> None:
    """Copy each local directory to its absolute path in the (started) container, in one archive.

    The archive is spooled to a temp file past a few MB: a mounted build's tree is hundreds of MB."""
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as buffer:
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for source, target in trees:
                root = PurePosixPath(target.lstrip("/"))
                for depth in range(1, len(root.parts) + 1):  # the parents, so put_archive at "/" can create them
                    info = tarfile.TarInfo(str(PurePosixPath(*root.parts[:depth])))
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                _add_tree(tar, source, root)
        buffer.seek(0)
        accepted = container.put_archive("/", buffer)
    if not accepted:
        raise RuntimeError("the Docker daemon refused the copy of the suite into the container")


def copy_out(container: Any, source: str, dest: Path) -> None:
    """The container's ``source`` directory's contents into ``dest`` (which keeps what it had)."""
    stream, _ = container.get_archive(source)
    data = io.BytesIO(b"".join(stream))
    prefix = PurePosixPath(source.rstrip("/")).name
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=data, mode="r") as tar:
        members = []
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if not parts or parts[0] != prefix or len(parts) == 1:
                continue
            member.name = str(PurePosixPath(*parts[1:]))
            members.append(member)
        tar.extractall(dest, members=members, filter="data")
