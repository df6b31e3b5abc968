"""What the atlas tells the user as it goes: one line per recorded release (the CLI's reporter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from harness.atlas.releases import Release


class AtlasReporter(Protocol):
    """What the atlas tells the user; the CLI prints it, tests and the benchmark may ignore it."""

    def release_started(self, release: Release, position: int, total: int) -> None: ...
    def release_recorded(self, record: dict[str, Any], position: int, total: int) -> None: ...
    def note(self, message: str) -> None: ...


def new_atlas_reporter(printer: Callable[[str], None]) -> AtlasReporter:
    """A plain one-line-per-release reporter (the CLI's)."""
    return _LineReporter(printer)


class _LineReporter:
    def __init__(self, printer: Callable[[str], None]) -> None:
        self.print = printer

    def release_started(self, release: Release, position: int, total: int) -> None:
        return None

    def release_recorded(self, record: dict[str, Any], position: int, total: int) -> None:
        self.print(summary_line(record, position, total))

    def note(self, message: str) -> None:
        self.print(message)


def summary_line(record: dict[str, Any], position: int, total: int) -> str:
    t = record["timings"]
    install = "mounted" if record.get("install") == "mount" else f"image {t['image_s']:.1f} s"
    cost = (f"download {t['download_s']:.1f} s, unpack {t['unpack_s']:.1f} s, {install}, "
            f"runs {t['runs_s']:.1f} s, total {t['total_s']:.1f} s")
    head = f"[{position}/{total}] {record['version']}: "
    if record["status"] == "ok":
        cells = record["cells"].values()
        met = sum(1 for c in cells if c["status"] in ("pass", "xfail", "skip"))
        return head + f"{met}/{len(record['cells'])} cells met ({cost})"
    error = record["error"] or {}
    return head + f"{record['status']} at {error.get('phase')}: {error.get('message', '')[:160]} ({cost})"
