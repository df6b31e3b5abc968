"""A fresh, empty Docker daemon with the build cache restored imports the base rootfs, never bootstraps.

What a CI runner sees on every job: a new daemon, and a cache directory restored from the last job.
The test restores (hard-links) the machine's cached base rootfs into a private cache dir, starts a
private dockerd beside the machine's own (its own socket, data root and containerd), and asks for the
base image there: it must come from ``docker import`` of the cached tarball, in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from harness.binaries import cache_root
from harness.images import base, basecache, recipes, rootfs
from tests.benchmarks.private_daemon import private_dockerd, why_not

pytestmark = pytest.mark.integration


def test_fresh_daemon_imports_the_cached_base_rootfs(docker_client: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    reason = why_not()
    if reason:
        pytest.skip(f"no second dockerd here: {reason}")
    recipe = recipes.base_recipe()
    tag = base.ensure_base_image(docker_client)  # on the machine's daemon: keeps its rootfs in the cache
    entry = basecache.lookup(cache_root(), recipe.digest)
    assert entry is not None, "the machine's base image was not kept in the build cache"

    restored = tmp_path / "cache"
    restored.mkdir()
    subprocess.run(["cp", "-al", str(entry.tarball.parent.parent), str(restored / basecache.DIRNAME)], check=True)

    def no_bootstrap(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the base was bootstrapped although the cache holds its rootfs")

    monkeypatch.setattr(rootfs, "bootstrap", no_bootstrap)
    root = Path(tempfile.mkdtemp(prefix="cnm-dd-", dir="/tmp"))  # short: unix socket paths are limited
    try:
        with private_dockerd(root) as host:
            import docker

            client = docker.DockerClient(base_url=host, timeout=300)
            assert client.images.list() == [], "the private daemon is not empty"
            started = time.monotonic()
            assert base.ensure_base_image(client, cache_dir=restored) == tag
            seconds = time.monotonic() - started
            image = client.images.get(tag)
            assert image.labels["codex-native-matrix.kind"] == "base"
            out = client.containers.run(tag, ["sh", "-c", "python3 -m pytest --version 2>&1"], network_mode="none",
                                        remove=True)
            assert b"pytest 7." in out
            client.close()
            assert seconds < 60, f"importing the cached base took {seconds:.1f} s"
    except RuntimeError as exc:  # the daemon did not come up
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    finally:
        shutil.rmtree(root, ignore_errors=True)
