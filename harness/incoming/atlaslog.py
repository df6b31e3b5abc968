"""The one reader of ``atlas.jsonl``: a line per release, from which the whole timeline is rebuilt.

Every key :func:`harness.atlas.record.new_record` writes must be there, with the shape the timeline
reads: a version through the one version type, a status the atlas gives, cells' statuses and tests'
outcomes from their registries, finite seconds and byte counts, a fingerprint as
:mod:`harness.fingerprint` writes it. A line that is not such a record is one line naming the file,
the line and the field (:mod:`harness.jsonlines` reads the lines, ignoring only a torn tail).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.incoming.fields import (
    Count,
    Expect,
    Flag,
    Name,
    Outcome,
    Seconds,
    Status,
    Strict,
    Text,
    Unfinished,
    Version,
    read_lines,
    validate,
)
from harness.incoming.results import BuildFingerprintModel

FIX = "remove that line (`atlas --resume` runs its release again) or pass another --out"


class Timings(Strict):
    resolve_s: Seconds
    download_s: Seconds
    unpack_s: Seconds
    image_s: Seconds
    runs_s: Seconds
    cleanup_s: Seconds
    total_s: Seconds


class Reused(Strict):
    build: Flag
    image: Flag


class Cpu(Strict):
    prepare_s: Seconds | None
    runs_s: Seconds | None


class Sizes(Strict):
    tarball_bytes: Count | None
    tree_bytes: Count | None
    image_bytes: Count | None


class ErrorPart(Strict):
    phase: Name
    message: Text


class AtlasCell(Strict):
    status: Status
    expected: Expect
    lane_s: Seconds = 0.0
    unfinished: Unfinished | None = None


class AtlasRecord(Strict):
    schema_: Literal[1] = Field(alias="schema")
    version: Version
    npm_version: Name | None
    status: Literal["ok", "not-installable", "error"]
    error: ErrorPart | None
    timings: Timings
    reused: Reused
    cpu: Cpu
    sizes: Sizes
    binary_relpath: Text | None = Field(max_length=1000)
    tree_files: list[Text] = Field(max_length=1_000_000)
    image: Name | None
    fingerprint: BuildFingerprintModel
    cells: dict[Name, AtlasCell] = Field(max_length=1000)
    tests: dict[Name, dict[Name, Outcome]] = Field(max_length=1000)
    failures: dict[Name, dict[Name, Text]] = Field(max_length=1000)
    recorded_at: Name | None
    retried: Flag = False
    cell_set: Literal["compact", "default"] = "compact"  # older records ran the compact set
    install: Literal["mount", "image"] | None = None  # older records: an image of its own, when one ran


def read_atlas_log(path: Path) -> list[dict[str, Any]]:
    """Every record, checked, in file order (as plain dicts, the shape the timeline reads)."""
    records = []
    for number, data in read_lines(path, fix=FIX):
        record = validate(AtlasRecord, data, path, FIX, where=f" line {number}")
        records.append(record.model_dump(mode="json", by_alias=True))
    return records
