"""The model slug is learned from the build's bundled catalog (bytes embedded in the binary)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.suite.model import bundled_catalog, learn_model, pick_slug

# Entries shaped as 0.169.0's embedded models.json (recorded from codex-cli 0.169.0: slugs, priorities,
# visibility and tool_mode as the binary carries them; other keys dropped).
CATALOG_0169 = [
    {"slug": "gpt-6-astra", "priority": 2, "visibility": "list", "supported_in_api": True,
     "tool_mode": "code_mode_only"},
    {"slug": "gpt-6.1-sol", "priority": 1, "visibility": "list", "supported_in_api": True,
     "tool_mode": "code_mode_only"},
    {"slug": "gpt-daybreak-blue-latest", "priority": 11, "visibility": "hide", "supported_in_api": True,
     "tool_mode": "code_mode_only"},
    {"slug": "gpt-5.5", "priority": 13, "visibility": "list", "supported_in_api": True},
    {"slug": "codex-auto-review", "priority": 43, "visibility": "hide", "supported_in_api": True},
]
# 0.117.0: two listed models share priority 0; the first in catalog order wins.
CATALOG_0117 = [
    {"slug": "gpt-5.3-codex", "priority": 0, "visibility": "list", "supported_in_api": True},
    {"slug": "gpt-5.4", "priority": 0, "visibility": "list", "supported_in_api": True},
    {"slug": "gpt-5", "priority": 11, "visibility": "hide", "supported_in_api": True},
]


def _binary(tmp_path: Path, models: list[dict] | None) -> Path:
    path = tmp_path / "codex"
    body = b"\x7fELF\x00junk" * 1000
    if models is not None:
        body += b"struct ModelsCacheEntry" + json.dumps({"models": models}, indent=2).encode() + b"\x00more"
    path.write_bytes(body)
    return path


def test_picks_the_first_listed_model_with_the_ordinary_tool_mode(tmp_path: Path) -> None:
    choice = learn_model(_binary(tmp_path, CATALOG_0169))
    assert choice.slug == "gpt-5.5" and choice.source == "bundled catalog"
    assert choice.catalog == tuple(m["slug"] for m in CATALOG_0169)


def test_ties_keep_catalog_order() -> None:
    assert pick_slug(CATALOG_0117) == "gpt-5.3-codex"


def test_no_catalog_leaves_the_build_default(tmp_path: Path) -> None:
    choice = learn_model(_binary(tmp_path, None))
    assert choice.slug is None and "observed" in choice.source and choice.catalog == ()
    assert bundled_catalog(tmp_path / "missing") is None


def test_only_code_mode_models_still_give_a_listed_slug() -> None:
    only = [m for m in CATALOG_0169 if m.get("tool_mode")]
    assert pick_slug(only) == "gpt-6.1-sol"
