"""Getting one release ready to run: its tree fetched, then either mounted into the base image or built
into an image of its own.

Why two ways (``--install``):

* ``mount`` (the atlas's default): the release's cells run in the ONE base image with the cached tree
  mounted read-only where an image of its own would have copied it (:class:`harness.run.plan.MountedBuild`;
  copied in for a remote daemon). No image build (≈ 3.5 s of dockerd CPU per release and an image
  layer as large as the tree), and the tree is the only copy on disk while the release runs. The atlas
  runs a release once, so an image would be written, read once and deleted.
* ``image``: a content-addressed image per build, as the default matrix uses (built once, run by every
  later ``codex-matrix run``, cached by CI). The atlas still uses such an image when it already exists
  (a default-matrix build): it costs nothing then, and the tree it was built from is not needed.

Never raises: what went wrong goes into the record (with the phase), and the atlas goes on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from harness.atlas.prepared import PhaseClock, Prepared, fail_record, tree_files
from harness.atlas.record import new_record
from harness.atlas.releases import Release
from harness.binaries import CachedBuild, cache_dir_of, fetch
from harness.binaries import remove as remove_build
from harness.binaries.extract import NoLinuxBuild
from harness.errors import HARNESS_BUGS, UserError
from harness.images import ensure_version_image
from harness.images.base import image_exists
from harness.images.codex import version_tag
from harness.progress import NullProgress
from harness.run.plan import MountedBuild

Install = Literal["mount", "image"]
INSTALLS: tuple[Install, ...] = ("mount", "image")


class Preparer:
    """Fetch and install releases for one atlas pass; safe to call from a worker thread."""

    def __init__(self, client: Any, base_tag: str, *, install: Install, cache_dir: Path | None, keep_builds: bool,
                 cancel: threading.Event, note: Callable[[str], None], packument: dict[str, Any] | None) -> None:
        self.client, self.base_tag, self.install = client, base_tag, install
        self.cache_dir, self.keep_builds, self.cancel, self.note = cache_dir, keep_builds, cancel, note
        self.packument = packument
        self._cache = cache_dir_of(cache_dir)

    def prepare(self, release: Release) -> Prepared:
        """Fetch (integrity-checked) and install; never raises: failures go into the record."""
        record = new_record(release.version, release.npm_version)
        prepared = Prepared(release, record)
        if release.unavailable:
            fail_record(record, "resolve", UserError(release.unavailable), "not-installable")
            return prepared
        if self.cancel.is_set():
            return prepared
        cpu0 = time.thread_time()
        try:
            self._fetch(prepared, PhaseClock())
            if prepared.build is not None and not self.cancel.is_set():
                self._install(prepared, prepared.build)
            return prepared
        finally:
            record["cpu"]["prepare_s"] = round(time.thread_time() - cpu0, 2)

    def _fetch(self, prepared: Prepared, clock: PhaseClock) -> None:
        release, record = prepared.release, prepared.record
        timings = record["timings"]
        t0 = time.monotonic()
        try:
            had_tree = (self._cache / release.version / "build.json").exists()
            build = fetch(release.version, cache_dir=self.cache_dir, progress=clock, packument=self.packument)
            prepared.build, prepared.fetched = build, not had_tree
        except NoLinuxBuild as exc:
            fail_record(record, "fetch", exc, "not-installable")
        except HARNESS_BUGS:
            raise
        except Exception as exc:  # a broken build or a network error: recorded, the atlas goes on
            fail_record(record, "fetch", exc)
        finally:
            timings["download_s"] = round(clock.seconds.get("download", 0.0), 3)
            timings["unpack_s"] = round(clock.seconds.get("unpack", 0.0), 3)
            timings["resolve_s"] = round(max(0.0, time.monotonic() - t0 - timings["download_s"]
                                             - timings["unpack_s"]), 3)
        record["sizes"]["tarball_bytes"] = clock.totals.get("download")
        if prepared.build is not None:
            record["reused"]["build"] = not prepared.fetched
            record["binary_relpath"] = prepared.build.binary_relpath
            files = tree_files(prepared.build)
            record["tree_files"] = sorted(files)
            record["sizes"]["tree_bytes"] = sum(files.values())

    def _install(self, prepared: Prepared, build: CachedBuild) -> None:
        record = prepared.record
        t0 = time.monotonic()
        try:
            tag = version_tag(build, self.base_tag)
            existed = image_exists(self.client, tag)
            record["reused"]["image"] = existed
            if existed or self.install == "image":
                self._image(prepared, build, tag, existed)
            else:  # the tree stays in the cache until the release is recorded: it is what the container runs
                prepared.image, prepared.mounted = self.base_tag, MountedBuild(build.version, build.root,
                                                                               build.binary_relpath)
                record["install"], record["image"] = "mount", self.base_tag
        except HARNESS_BUGS:
            raise
        except Exception as exc:  # the daemon refused the build: recorded, the atlas goes on
            fail_record(record, "image", exc)
        finally:
            record["timings"]["image_s"] = round(time.monotonic() - t0, 3)
        if prepared.image is not None and prepared.mounted is None and prepared.fetched and not self.keep_builds:
            # The image holds the tree now and its file list is in the record: the cached copy only
            # doubles the release's footprint while it waits and runs.
            self.remove_tree(prepared)

    def _image(self, prepared: Prepared, build: CachedBuild, tag: str, existed: bool) -> None:
        prepared.built = not existed  # set before building: an interrupted build is still ours to remove
        # once the daemon holds the build context, the cached tree is only a third copy (context, layer,
        # tree) at the moment of the atlas's peak disk use: it goes then, unless kept
        drop = prepared.fetched and not self.keep_builds
        prepared.image = ensure_version_image(self.client, build, progress=NullProgress(), base_tag=self.base_tag,
                                              context_sent=(lambda: self.remove_tree(prepared)) if drop else None)
        prepared.record["install"], prepared.record["image"] = "image", prepared.image
        with contextlib.suppress(Exception):
            prepared.record["sizes"]["image_bytes"] = int(self.client.images.get(prepared.image).attrs.get("Size", 0))

    def remove_tree(self, prepared: Prepared) -> None:
        try:
            remove_build(prepared.release.version, cache_dir=self.cache_dir)
        except OSError as exc:
            self.note(f"{prepared.release.version}: could not remove its cached tree ({exc})")
        prepared.fetched = False
