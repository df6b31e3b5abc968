"""Which model slug a cell runs with: one the build itself knows, learned from the build.

A real user runs a real model. With a slug its catalog lacks ("gpt-fake"), a build warns before the
turn ("Model metadata for `gpt-fake` not found", an ``error`` item on 0.104–0.116 and 0.140+) and falls
back to generic metadata (other tools, other prompts): a fake-world artifact, not codex behaviour.
Each build bundles its own catalog, so the slug is learned from the binary, never from a hand-kept
table:

* **Bundled catalog** (about 0.60+): the binary embeds codex's ``models.json`` (``{"models": [...]}``).
  The slug is the listed (``visibility: list``), API-supported entry with the lowest ``priority`` among
  those without a ``tool_mode`` override: such a model gets the ordinary shell tool, which the
  contract's ``command_execution`` checks are about. (0.169.0's own default, ``gpt-6.1-sol``, is
  ``code_mode_only``: its tools are another seam, not covered here.)
* **No catalog** (older builds): no slug is configured, so the build sends its own default; the slug it
  sent is then read from the fake API's journal (``observed``).

Standard library only: runs inside the per-version containers, once per container.
"""

from __future__ import annotations

import json
import mmap
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CATALOG_START = b'{\n  "models": ['
_MAX_CATALOG_BYTES = 8 << 20


@dataclass(frozen=True)
class ModelChoice:
    """``slug`` None: configure none and let the build use its default (``source`` says which)."""

    slug: str | None
    source: str
    catalog: tuple[str, ...] = field(default_factory=tuple)
    entry: dict[str, Any] | None = None  # the slug's own catalog entry (what GET /models answers)


def bundled_catalog(binary: Path) -> list[dict[str, Any]] | None:
    """The model entries the binary embeds, or None when it embeds no catalog."""
    try:
        with binary.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            start = data.find(_CATALOG_START)
            if start < 0:
                return None
            chunk = data[start:start + _MAX_CATALOG_BYTES]
    except (OSError, ValueError):
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(chunk.decode("utf-8", "replace"))
    except ValueError:
        return None
    models = obj.get("models") if isinstance(obj, dict) else None
    if not isinstance(models, list):
        return None
    return [m for m in models if isinstance(m, dict) and isinstance(m.get("slug"), str)]


def pick_slug(models: list[dict[str, Any]]) -> str | None:
    """The catalog's first choice for an ordinary shell-tool turn (see the module docstring)."""
    def usable(m: dict[str, Any]) -> bool:
        return m.get("visibility") == "list" and m.get("supported_in_api", True) is not False \
            and not m.get("tool_mode")

    candidates = [m for m in models if usable(m)] or [m for m in models if m.get("visibility") == "list"]
    if not candidates:
        return None
    best = min(range(len(candidates)), key=lambda i: (_priority(candidates[i]), i))
    return str(candidates[best]["slug"])


def _priority(model: dict[str, Any]) -> float:
    value = model.get("priority")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("inf")


def learn_model(binary: Path | None = None) -> ModelChoice:
    """The slug for this build's cells; ``binary`` defaults to ``codex`` on PATH."""
    if binary is None:
        found = shutil.which("codex")
        binary = Path(found).resolve() if found else None
    models = bundled_catalog(binary) if binary is not None else None
    if not models:
        return ModelChoice(None, "build default (no bundled catalog; observed in the request)")
    slugs = tuple(str(m["slug"]) for m in models)
    slug = pick_slug(models)
    if slug is None:
        return ModelChoice(None, "build default (no listed model in the bundled catalog)", slugs)
    entry = next(m for m in models if m["slug"] == slug)
    return ModelChoice(slug, "bundled catalog", slugs, entry)
