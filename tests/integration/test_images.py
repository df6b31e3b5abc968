"""Real images from a real npm build: base image (pulled or debootstrapped) + codex 0.44.0.

The codex recipe is a private copy with a unique comment line, so the per-version image is really
built here (a unique tag) while the base image is shared with every other run. Everything this test
creates beyond that shared base is removed at the end.
"""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.binaries import fetch
from harness.images import ensure_base_image, ensure_images, ensure_version_image, prune
from harness.images.recipes import codex_recipe
from harness.labels import KEPT_SUFFIX
from harness.labels import PREFIX as LABEL_PREFIX

pytestmark = pytest.mark.integration
VERSION = "0.44.0"  # small (89 MB tarball) and of the thread-events era
REPO_CONTAINERS = Path(__file__).resolve().parents[2] / "containers"


@pytest.fixture
def private_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "containers"
    shutil.copytree(REPO_CONTAINERS, copy)
    with (copy / "codex" / "Dockerfile").open("a") as handle:
        handle.write(f"# integration test {uuid.uuid4()}\n")
    monkeypatch.setenv("CODEX_MATRIX_CONTAINERS", str(copy))
    yield copy


def run(client: Any, tag: str, *command: str) -> str:
    output = client.containers.run(tag, list(command), network_mode="none", remove=True, stdin_open=False,
                                   labels={f"{LABEL_PREFIX}.managed": "true"})
    return str(output.decode().strip())


def test_base_and_version_image(docker_client: Any, private_recipe: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    client = docker_client
    timings: dict[str, float] = {}
    started = time.monotonic()
    base = ensure_base_image(client)
    timings["base_s"] = round(time.monotonic() - started, 2)
    assert base.startswith("codex-native-matrix/base:")
    versions = run(client, base, "sh", "-c", "python3 -m pytest --version 2>&1; timeout --version | head -1")
    assert "pytest 7." in versions and "timeout (GNU coreutils)" in versions

    cache = tmp_path / "cache"
    started = time.monotonic()
    build = fetch(VERSION, cache_dir=cache)  # real npm registry
    timings["fetch_s"] = round(time.monotonic() - started, 2)
    assert build.version_line == f"codex-cli {VERSION}"

    started = time.monotonic()
    tag = ensure_version_image(client, build)
    build_s = time.monotonic() - started
    timings["build_s"] = round(build_s, 2)
    created: list[str] = [tag]
    created_containers: list[Any] = []
    try:
        assert tag.startswith(f"codex-native-matrix/codex:{VERSION}-")
        image = client.images.get(tag)
        assert image.labels[f"{LABEL_PREFIX}.managed"] == "true"
        assert image.labels[f"{LABEL_PREFIX}.kind"] == "codex"
        assert image.labels[f"{LABEL_PREFIX}.version"] == VERSION
        assert image.labels[f"{LABEL_PREFIX}.recipe"] == codex_recipe().short
        assert image.labels[f"{LABEL_PREFIX}.base"] == base
        assert run(client, tag, "codex", "--version") == f"codex-cli {VERSION}"
        assert run(client, tag, "sh", "-c", "ls /opt/codex/0.44.0/path") == "rg"  # whole tree, helpers too

        # Second run: nothing downloaded (registry unreachable on purpose), nothing built.
        monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/")
        started = time.monotonic()
        again = ensure_images(client, [VERSION], cache_dir=cache)
        warm_s = time.monotonic() - started
        timings["warm_s"] = round(warm_s, 2)
        assert again == {VERSION: tag}
        assert client.images.get(tag).id == image.id
        assert warm_s < 5, f"warm ensure took {warm_s:.1f} s"

        # Wiped build cache but image present: reused by labels, still no download.
        shutil.rmtree(cache)
        assert ensure_images(client, [VERSION], cache_dir=cache) == {VERSION: tag}
        assert not (cache / VERSION).exists()

        # prune: a stale-recipe image and a stopped container go; everything else is kept.
        stale = _stale_image(client, base, tmp_path)
        created.append(stale)
        stopped = client.containers.create(base, ["true"], labels={f"{LABEL_PREFIX}.managed": "true"})
        # run containers: one kept for inspection (only sleeps), one whose suite is still running
        run_labels = {f"{LABEL_PREFIX}.managed": "true", f"{LABEL_PREFIX}.kind": "run"}
        kept = client.containers.run(base, ["sleep", "300"], detach=True, network_mode="none", labels=run_labels,
                                     name=f"cnm-prune-test-{uuid.uuid4().hex[:8]}{KEPT_SUFFIX}")
        live = client.containers.run(base, ["sh", "-c", "sleep 300 # python3 -m pytest stands in"], detach=True,
                                     network_mode="none", labels=run_labels)
        created_containers.extend([live, kept])
        mine = {stopped.id, kept.id, live.id}
        others = [t for i in client.images.list(filters={"label": f"{LABEL_PREFIX}.managed=true"})
                  for t in i.tags if t != stale]
        other_containers = [c.id for c in client.containers.list(
            all=True, filters={"label": f"{LABEL_PREFIX}.managed=true"}) if c.id not in mine]
        removed = prune(client, keep=[*others, *other_containers])
        assert f"image {stale}" in removed
        assert f"container {stopped.name} ({stopped.short_id})" in removed
        assert f"container {kept.name} ({kept.short_id}, kept for inspection)" in removed
        assert not any(live.name in line for line in removed)
        live.reload()
        assert live.status == "running"
        assert client.images.get(tag).id == image.id
        assert client.images.get(base)
        print(f"timings (s): {timings}")  # shown with -rP; the numbers quoted in the design notes
    finally:
        for container in created_containers:
            with contextlib.suppress(Exception):  # already removed
                container.remove(force=True)
        for ref in created:
            with contextlib.suppress(Exception):  # already pruned
                client.images.remove(ref)


def _stale_image(client: Any, base: str, tmp_path: Path) -> str:
    """A project image that claims an outdated codex recipe, as an older checkout would have left."""
    context = tmp_path / "stale"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\n")
    tag = f"codex-native-matrix/codex:0.0.1-{uuid.uuid4().hex[:12]}"
    client.images.build(path=str(context), tag=tag, pull=False, rm=True, forcerm=True, labels={
        f"{LABEL_PREFIX}.managed": "true", f"{LABEL_PREFIX}.kind": "codex",
        f"{LABEL_PREFIX}.recipe": "000000000000", f"{LABEL_PREFIX}.version": "0.0.1",
        f"{LABEL_PREFIX}.base": base,
    })
    return tag
