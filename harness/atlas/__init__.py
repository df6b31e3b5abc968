"""The release atlas: every stable codex build, fingerprinted and contract-checked, as a timeline.

``releases`` (which versions, from the npm packument), ``cells`` (the compact and default cell sets),
``prepared`` (a release on its way) and ``prepare`` (fetch, then the build mounted into the base image
or an image of its own), ``runner`` (releases side by side: prepare → runs → record → cleanup, streamed
within a disk budget), ``rawpack`` (a recorded release's raw output packed), ``reporting`` (one line
per release), ``cpu`` (CPU seconds per release), ``record``
(``atlas.jsonl``, the only state), ``timeline`` (records → facts → where each appeared and went away),
``history`` (each contract test: where it started to hold or to fail), ``rules`` (each known regression's
claimed range beside the observed one), ``known`` (the known transitions, looked up), and the writers
``markdown`` and ``html``. Arrows point one way: cli → runner → prepare → (binaries, images, run,
matrix); timeline ← record; writers ← timeline.

Public API:

* ``write_timeline(out_dir, records) -> list[Path]``: ``atlas.json``, ``atlas.md``, ``atlas.html``
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.atlas.html import render_html
from harness.atlas.markdown import render_markdown
from harness.atlas.rules import rule_rows
from harness.atlas.timeline import build_timeline
from harness.matrix.schema import MatrixConfig
from harness.redact import Redactor

__all__ = ["build_timeline", "write_timeline"]


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_timeline(out_dir: Path, records: Iterable[Mapping[str, Any]],
                   redactor: Redactor | None = None, config: MatrixConfig | None = None) -> list[Path]:
    """Write the three timeline files (atomically) and return their paths.

    The timeline is masked value by value once, before any of them is rendered: a mask applied to the
    rendered JSON, Markdown or HTML could break the escaping around a secret, or miss one it split.
    """
    records = list(records)
    built = build_timeline(records)
    if config is not None:  # each known regression's claimed range beside the one observed
        built["rules"] = rule_rows(config, records, built["observed"])
    timeline = (redactor or Redactor()).value(built)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        _write(out_dir / "atlas.json", json.dumps(timeline, indent=1, ensure_ascii=False) + "\n"),
        _write(out_dir / "atlas.md", render_markdown(timeline)),
        _write(out_dir / "atlas.html", render_html(timeline)),
    ]
