"""Image recipes (files under ``containers/``) and the content-addressed tags and labels derived from them.

Pure functions, no Docker: a tag is a promise about content. The base tag hashes the base recipe
files; a per-version tag hashes the codex recipe, the base tag and the build tree digest, so editing
a recipe or getting a different build can never silently reuse a stale image, and an unchanged
input always finds the image it built before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.assets import containers_dir
from harness.errors import UserError
from harness.labels import KIND, MANAGED, RECIPE, label
from harness.labels import PREFIX as LABEL_PREFIX

BASE_REPO = f"{LABEL_PREFIX}/base"
CODEX_REPO = f"{LABEL_PREFIX}/codex"
# Bump when the Python side of a recipe changes meaning (e.g. how the rootfs is trimmed): the recipe
# files alone would not show it, and the tag must.
BUILDER_REVISION = "1"


@dataclass(frozen=True)
class Recipe:
    directory: Path
    digest: str  # full sha256 hex of the recipe files (+ builder revision)

    @property
    def short(self) -> str:
        return self.digest[:12]


def recipe(directory: Path) -> Recipe:
    """Hash every recipe file except READMEs, by relative path and content, in sorted order."""
    digest = hashlib.sha256(f"builder-revision {BUILDER_REVISION}\n".encode())
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel.split("/")[-1].upper().startswith("README"):
            continue
        digest.update(f"{rel}\0{len(path.read_bytes())}\0".encode())
        digest.update(path.read_bytes())
    return Recipe(directory, digest.hexdigest())


def base_recipe() -> Recipe:
    return recipe(containers_dir() / "base")


def codex_recipe() -> Recipe:
    return recipe(containers_dir() / "codex")


def base_tag(base: Recipe) -> str:
    return f"{BASE_REPO}:{base.short}"


def codex_tag(version: str, codex: Recipe, base_image_tag: str, tree_sha256: str) -> str:
    key = hashlib.sha256(f"{codex.digest}\n{base_image_tag}\n{tree_sha256}\n".encode()).hexdigest()
    return f"{CODEX_REPO}:{version}-{key[:12]}"


def labels(kind: str, recipe_: Recipe, **extra: str) -> dict[str, str]:
    """Labels that let ``prune`` find project images and tell stale recipes from current ones."""
    out = {MANAGED: "true", KIND: kind, RECIPE: recipe_.short}
    out.update({label(key): value for key, value in extra.items()})
    return out


def read_packages(base_dir: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in (base_dir / "packages.txt").read_text().splitlines()
            if line.split("#", 1)[0].strip()]


def read_conf(base_dir: Path) -> Mapping[str, str]:
    conf: dict[str, str] = {}
    for line in (base_dir / "debootstrap.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, _, value = line.partition("=")
            conf[key.strip()] = value.strip()
    return conf


def from_image(dockerfile: Path) -> str:
    """The image named by the first FROM line (the pinned upstream image of the registry path)."""
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM" and len(words) > 1:
            return words[1]
    raise UserError(f"{dockerfile} has no FROM line: restore it from the repository")
