"""Lane images: a build's image plus what a foreign lane needs to run in it (Node, for the TypeScript SDK).

Only a run that selects a Node lane builds or uses them, so the default matrix is as fast as before.

Node comes from Debian's own ``nodejs`` package, installed offline like everything else in these images:

* **The .deb files, fetched once.** A throwaway container of the base image (the only container that
  ever gets a network, and only Debian's mirror is asked) runs ``apt-get install --download-only
  nodejs`` and hands the files out through a bind mount. They are kept in the build cache under
  ``lanes/node-debs/<base recipe>/`` with a manifest of their sha256s, written last, re-checked on every
  use; a damaged set is fetched again. The base image is the same for every build, so one set serves all.
* **One image per build, content-addressed.** ``containers/lane-node/Dockerfile`` installs the files
  with ``dpkg -i`` (``network_mode none``) on top of the build's image. Its tag hashes the recipe, the
  build image's tag and the .deb set, so a changed input can never reuse a stale image and an unchanged
  one always finds the image it built before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from harness import labels
from harness.binaries import cache_dir_of, scratch
from harness.errors import UserError
from harness.images import dockerbuild, recipes
from harness.images.once import build_once
from harness.progress import NullProgress, Progress

LANE_REPO = f"{labels.PREFIX}/lane-node"
KIND = "lane-node"
MANIFEST = "manifest.json"
DEBS_PREFIX = ".tmp-debs-"
CONTEXT_PREFIX = ".ctx-lane-"
#: What the fetch container runs: Debian's nodejs and whatever it needs beyond the base image.
FETCH_SCRIPT = r"""set -eu
if [ -n "${DEBIAN_MIRROR:-}" ]; then
  sed -i "s|http://deb.debian.org/debian|$DEBIAN_MIRROR|" /etc/apt/sources.list 2>/dev/null || true
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only --no-install-recommends nodejs >/dev/null
cp /var/cache/apt/archives/*.deb /debs/
chmod 0644 /debs/*.deb
"""
FETCH_TIMEOUT_S = 600


def lane_recipe() -> recipes.Recipe:
    from harness.assets import containers_dir

    return recipes.recipe(containers_dir() / "lane-node")


def _debs_dir(work: Path, base_tag: str) -> Path:
    return work / "lanes" / "node-debs" / base_tag.rpartition(":")[2]


def _verified(directory: Path) -> tuple[str, dict[str, str]] | None:
    """(digest, name → sha256) of a complete .deb set, or None when absent or damaged."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        files = dict(manifest["files"])
        for name, digest in files.items():
            if hashlib.sha256((directory / name).read_bytes()).hexdigest() != digest:
                return None
        return str(manifest["digest"]), files
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _digest(files: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{n}\0{d}\n" for n, d in sorted(files.items())).encode()).hexdigest()


def ensure_node_debs(client: Any, base_tag: str, *, work: Path, progress: Progress) -> Path:
    """The directory of Debian's nodejs .deb files for ``base_tag``, fetched once (module docstring)."""
    directory = _debs_dir(work, base_tag)
    if _verified(directory) is not None:
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with scratch.locked(directory.parent, "node-debs", waiting=progress.note, what="Node's Debian packages"):
        if _verified(directory) is not None:
            return directory
        scratch.sweep(directory.parent, DEBS_PREFIX)
        tmp = scratch.make(directory.parent, DEBS_PREFIX)
        try:
            progress.start("fetch Debian's nodejs packages (once, into the build cache)")
            mirror = os.environ.get("CODEX_MATRIX_DEBIAN_MIRROR", "").strip()
            _run_fetch(client, base_tag, tmp, mirror)
            files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(tmp.glob("*.deb"))}
            if not any(name.startswith("nodejs_") for name in files):
                raise UserError("fetching Debian's nodejs gave no nodejs_*.deb: check that the Debian mirror "
                                "answers (set CODEX_MATRIX_DEBIAN_MIRROR to one that does) and retry")
            (tmp / MANIFEST).write_text(json.dumps({"digest": _digest(files), "files": files}, indent=1) + "\n",
                                        encoding="utf-8")
            if directory.exists():
                shutil.rmtree(directory)
            os.rename(tmp, directory)
            size = sum(p.stat().st_size for p in directory.glob("*.deb"))
            progress.done(f"{len(files)} packages, {size / 1e6:.0f} MB")
        finally:
            scratch.discard(tmp)
    return directory


def _run_fetch(client: Any, base_tag: str, dest: Path, mirror: str) -> None:
    from docker.types import Mount

    container = client.containers.create(
        base_tag, ["sh", "-c", FETCH_SCRIPT], environment={"DEBIAN_MIRROR": mirror} if mirror else {},
        mounts=[Mount("/debs", str(dest.resolve()), type="bind")],
        labels={labels.MANAGED: "true", labels.KIND: "fetch"}, network_mode="bridge",
    )
    try:
        container.start()
        status = container.wait(timeout=FETCH_TIMEOUT_S)
        if int(status.get("StatusCode", 1)) != 0:
            tail = container.logs(tail=5).decode("utf-8", errors="replace").strip().splitlines()
            raise UserError(f"fetching Debian's nodejs failed ({tail[-1] if tail else 'no output'}): a Node lane "
                            "needs Debian's mirror once; set CODEX_MATRIX_DEBIAN_MIRROR to one that answers")
    except UserError:
        raise
    except Exception as exc:  # a timeout or a daemon error: one line, never a traceback
        raise UserError(f"fetching Debian's nodejs failed ({type(exc).__name__}: {exc}); retry, or set "
                        "CODEX_MATRIX_DEBIAN_MIRROR to a mirror that answers") from None
    finally:
        with contextlib.suppress(Exception):  # gone already: nothing else to clean
            container.remove(force=True)


def lane_tag(version: str, codex_tag: str, debs_digest: str) -> str:
    key = hashlib.sha256(f"{lane_recipe().digest}\n{codex_tag}\n{debs_digest}\n".encode()).hexdigest()
    return f"{LANE_REPO}:{version}-{key[:12]}"


def ensure_node_image(client: Any, version: str, codex_tag: str, base_tag: str, *, cache_dir: Path | None = None,
                      progress: Progress | None = None) -> str:
    """The tag of ``codex_tag`` plus Node, built only when no image with that tag exists."""
    progress = progress or NullProgress()
    work = cache_dir_of(cache_dir)
    debs = ensure_node_debs(client, base_tag, work=work, progress=progress)
    found = _verified(debs)
    if found is None:  # changed under us between the fetch and now
        raise UserError(f"Node's Debian packages in {debs} changed while in use: delete the directory and retry")
    digest, files = found
    tag = lane_tag(version, codex_tag, digest)

    def build(context: Path) -> None:
        shutil.copy2(lane_recipe().directory / "Dockerfile", context / "Dockerfile")
        (context / "debs").mkdir()
        for name in files:
            shutil.copy2(debs / name, context / "debs" / name)
        progress.start(f"build {tag}")
        image_id = dockerbuild.build(
            client, context=context, tag=tag, progress=progress, buildargs={"BASE": codex_tag},
            labels=recipes.labels(KIND, lane_recipe(), version=version, base=codex_tag),
            network_mode="none",
        )
        progress.done(image_id[:19])

    return build_once(client, tag, work, lock=f"image-lane-{version}", what=f"the Node image of {version}",
                      context_prefix=CONTEXT_PREFIX, progress=progress, build=build)
