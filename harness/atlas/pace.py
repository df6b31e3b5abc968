"""Releases whose runs cost far more than their neighbours', and why.

Time a release spends beyond its neighbours' is a finding: either codex does something new (its own
cost: said, and left as it is) or it waits for a call the fake world does not answer (a fix of the fake
world: once made, the outlier is gone). The atlas records two costs per release that ran:

* ``cpu``: the CPU seconds of its runs (the containers' cgroups). Load hardly moves it, so a release
  that computes more per run than its neighbours shows here even on a busy machine;
* ``wall``: the wall seconds of its runs. Waiting shows only here; load inflates it too, but for the
  neighbours about as much, since they ran minutes apart.

A release is compared with up to :data:`WINDOW` observed releases on each side that ran the same cell
set under the same expectations (a legacy build's contract is another one): it is an outlier when its
cost is at least :data:`RATIO` times their median and at least :data:`MIN_EXCESS_S` seconds above it.
Each outlier is looked up in :data:`CAUSES`, the causes measured so far; one without a cause is
flagged at the top of the atlas pages, to be measured.

Pure functions over records, like :mod:`harness.atlas.timeline`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.npmversion import version_key

#: Observed neighbours on each side a release is compared with.
WINDOW = 3
#: How many times the neighbours' median a cost must reach to be an outlier ...
RATIO = 2.0
#: ... and by how many seconds it must exceed it (a 2 s release against 0.9 s ones is no finding).
MIN_EXCESS_S = {"cpu": 10.0, "wall": 20.0}
MEASURES = ("cpu", "wall")


@dataclass(frozen=True)
class Cause:
    """A measured reason for releases ``first``…``last`` (inclusive) to cost more by these ``measures``."""

    first: str
    last: str
    measures: tuple[str, ...]  # of MEASURES: more CPU also means more wall on a busy machine
    why: str
    fake_world: bool  # True: the fake world did not answer a call a real one would (to be fixed there)

    def covers(self, version: str, measure: str) -> bool:
        return measure in self.measures and \
            version_key(self.first) <= version_key(version) <= version_key(self.last)


CAUSES: tuple[Cause, ...] = (
    Cause("0.8.0", "0.20.0", ("wall",),
          "the contract's own waits: these builds never exit after an error, so every scenario they cannot "
          "complete ends by the lane's 10 s timeout (61 runs of the default cells for 0.8.0, 47 for 0.20.0, "
          "10 or fewer from 0.21.0 on: harness.suite.waits); their CPU is their neighbours'. Nothing is left "
          "unanswered.",
          fake_world=False),
    Cause("0.23.0", "0.23.0", ("cpu",),
          "codex's own loop: 0.23.0 never exits after an error response (34 of its runs end by the lane's "
          "timeout, 5 of 0.22.0's and 0.25.0's) and meanwhile re-runs its OS detection (`lsb_release -a`, "
          "`getconf LONG_BIT`, `uname -m`) many times a second without another request: strace of 3 s of a 401 "
          "run, 326 programs started; the fake API saw its 3 attempts and nothing after. The waits are the "
          "contract's (harness.suite.waits), so they overlap; their CPU is what shows.",
          fake_world=False),
    Cause("0.59.0", "0.61.0", ("cpu", "wall"),
          "codex's own start-up: each start of these builds spends about 0.25 s of CPU in codex itself "
          "(0.02 s for 0.58.0 and 0.63.0; 2,638 mmap calls per start against 329 for 0.58.0), and its wall "
          "time is that CPU (the runs' wall grows with it on a busy machine), so nothing waits on the fake "
          "world (measured 2026-12-06: an `ok` run in the base image, 5 runs each, getrusage and strace).",
          fake_world=False),
)


def _cost(record: Mapping[str, Any], measure: str) -> float | None:
    value = (record.get("cpu") or {}).get("runs_s") if measure == "cpu" else \
        (record.get("timings") or {}).get("runs_s")
    return None if value is None else float(value)


def _contract(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a release is compared under: its cell set and the expectations its cells ran with."""
    cells = (record.get("cells") or {}).values()
    return record.get("cell_set"), tuple(sorted({str(c.get("expected")) for c in cells}))


def cause_of(version: str, measure: str) -> Cause | None:
    return next((c for c in CAUSES if c.covers(version, measure)), None)


def outliers(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every (release, measure) that costs far more than its neighbours, in release order, with its cause."""
    ran = sorted((r for r in records if r.get("status") == "ok"), key=lambda r: version_key(str(r["version"])))
    rows: list[dict[str, Any]] = []
    for record in ran:
        peers = [r for r in ran if _contract(r) == _contract(record)]
        j = next(k for k, r in enumerate(peers) if r is record)
        around = peers[max(0, j - WINDOW):j] + peers[j + 1:j + 1 + WINDOW]
        for measure in MEASURES:
            value = _cost(record, measure)
            others = [c for c in (_cost(r, measure) for r in around) if c is not None]
            if value is None or len(others) < 2:
                continue
            median = statistics.median(others)
            if value < RATIO * median or value - median < MIN_EXCESS_S[measure]:
                continue
            version = str(record["version"])
            cause = cause_of(version, measure)
            rows.append({
                "version": version, "measure": measure, "seconds": round(value, 1),
                "neighbours_median_s": round(median, 1), "ratio": round(value / median, 1) if median else None,
                "neighbours": [str(r["version"]) for r in around],
                "cause": cause.why if cause else None,
                "fake_world": cause.fake_world if cause else None,
            })
    return rows


def unexplained(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [row for row in rows if row["cause"] is None]


def whose(row: Mapping[str, Any]) -> str:
    """Who is to act on an outlier, as the pages say it."""
    return "—" if row["fake_world"] is None else "yes: to fix" if row["fake_world"] else "no"


def brief(row: Mapping[str, Any]) -> str:
    """``0.60.1 (cpu 34.7 s, neighbours 8.4 s)``, for the flag at the top of the pages."""
    return f"{row['version']} ({row['measure']} {row['seconds']} s, neighbours {row['neighbours_median_s']} s)"
