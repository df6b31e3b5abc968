"""``atlas.jsonl``: one line per release, appended as soon as the release is done; the atlas's only state.

A line holds everything the timeline needs (the build's fingerprint, its files, every cell's status and
every contract test's outcome) and what the release cost (seconds per phase, bytes), so the timeline
can be rebuilt from the file alone and ``--resume`` only has to read which versions it already holds.

Writing and reading go through :mod:`harness.jsonlines` (shared with ``bisect.jsonl``): one ``write``
of a whole line to a file opened ``O_APPEND``, so an interrupt lands either before or after it; a line
torn by a crash (power loss, ``kill -9``) is cut off before the next append and ignored by readers,
so the file stays valid JSON Lines whatever happened. Records are checked by
:mod:`harness.incoming.atlaslog` when read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.atlas.cells import cell_key
from harness.incoming.atlaslog import read_atlas_log
from harness.jsonlines import append_line
from harness.redact import Redactor
from harness.results import CellResult
from harness.suite.facts import Facts
from harness.suite.protocol import FACTS_FILE

SCHEMA = 1
LOG_NAME = "atlas.jsonl"
#: Status of a release in the atlas: ran (its cells may still have missed), could not be installed
#: (nothing for Linux x64 was published), or failed on the way (fetch, image or run).
STATUSES = ("ok", "not-installable", "error")
PHASES = ("resolve", "download", "unpack", "image", "runs", "cleanup")
MESSAGE_CHARS = 300


def cells_part(results: Iterable[CellResult]) -> tuple[dict[str, Any], dict[str, dict[str, str]],
                                                       dict[str, dict[str, str]]]:
    """(cells, tests, failures) of a release: status per cell, outcome per test per cell, and the first
    line of each failing test's message (what a reader of the timeline needs to tell why)."""
    cells: dict[str, Any] = {}
    tests: dict[str, dict[str, str]] = {}
    failures: dict[str, dict[str, str]] = {}
    for result in results:
        key = cell_key(result.cell.credential, result.cell.policy)
        cells[key] = {"status": result.status, "expected": result.cell.expect,
                      "lane_s": round(sum(result.lane_s.values()), 2)}
        if result.unfinished:
            cells[key]["unfinished"] = result.unfinished
        tests[key] = {t.name: t.outcome for t in result.tests}
        for t in result.tests:
            if t.outcome in ("fail", "error", "xpass") and t.message:
                failures.setdefault(key, {})[t.name] = t.message.strip().splitlines()[0][:MESSAGE_CHARS]
        if result.message and not result.tests:
            failures.setdefault(key, {})["(cell)"] = result.message.strip().splitlines()[0][:MESSAGE_CHARS]
    return cells, tests, failures


def model_catalog(results: Iterable[CellResult]) -> list[str]:
    """The slugs the build bundles (any cell's facts carry them: the catalog is the binary's)."""
    for result in results:
        if not result.artifacts:
            continue
        for path in sorted(Path(result.artifacts).glob(f"*/{FACTS_FILE}")):
            facts = Facts.read(path)
            if facts is not None and facts.version_line:
                return list(facts.model_catalog)
    return []


def new_record(version: str, npm_version: str | None) -> dict[str, Any]:
    """A record with every key present, so readers never need to guess at a missing one."""
    return {
        "schema": SCHEMA, "version": version, "npm_version": npm_version, "status": "error", "error": None,
        "timings": {f"{p}_s": 0.0 for p in PHASES} | {"total_s": 0.0},
        "reused": {"build": False, "image": False},
        # CPU seconds: the preparing thread (unpack, hashing, build context) and the cell runs' container
        "cpu": {"prepare_s": None, "runs_s": None},
        "sizes": {"tarball_bytes": None, "tree_bytes": None, "image_bytes": None},
        "binary_relpath": None, "tree_files": [], "image": None,
        "fingerprint": {}, "cells": {}, "tests": {}, "failures": {}, "recorded_at": None, "cell_set": "compact",
        # how its cells got the build: "mount" (its tree into the base image) or "image" (one of its own)
        "install": None,
    }


class AtlasLog:
    """The append-only ``atlas.jsonl`` of one atlas directory."""

    def __init__(self, path: Path, redactor: Redactor | None = None) -> None:
        self.path = path
        self.redactor = redactor or Redactor()

    def read(self) -> list[dict[str, Any]]:
        """Every record, the last one per version winning (a rerun replaces its release).

        Read through :mod:`harness.incoming.atlaslog`: a line that is not a record is a one-line error.
        """
        by_version: dict[str, dict[str, Any]] = {}
        for data in read_atlas_log(self.path):
            by_version.pop(data["version"], None)
            by_version[data["version"]] = data
        return list(by_version.values())

    def recorded(self, cell_set: str | None = None) -> set[str]:
        """Versions recorded (with ``cell_set``, when given: a release run with another set is not done)."""
        return {r["version"] for r in self.read() if cell_set is None or r.get("cell_set", "compact") == cell_set}

    def append(self, record: Mapping[str, Any]) -> None:
        """One record as one whole line (a torn tail is repaired first: :mod:`harness.jsonlines`), masked
        value by value so it stays JSON."""
        append_line(self.path, self.redactor.dumps(record, ensure_ascii=False))
