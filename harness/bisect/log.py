"""``bisect.jsonl``: the bisect's own log, one JSON object per line, which makes it resumable.

The first line (``start``) holds the bisect's parameters; then one ``step`` line per judged release,
appended as soon as the step ends, and a ``result`` line at the end. Started again with the same
parameters, a bisect reads the steps back instead of running them (Ctrl-C loses at most the step in
flight); with other parameters it starts a new log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.bisect.judge import RunCounts, StepOutcome
from harness.incoming.bisectlog import StepLine, read_bisect_log
from harness.jsonlines import append_line

LOG_NAME = "bisect.jsonl"


class BisectLog:
    def __init__(self, path: Path, params: dict[str, Any]) -> None:
        self.path = path
        self.params = params

    def resumable(self) -> list[StepOutcome] | None:
        """The logged steps when the log is this bisect's (same parameters), else None.

        Read through :mod:`harness.incoming.bisectlog`: a damaged line is a one-line error, not a step.
        """
        params, steps = read_bisect_log(self.path)
        if params is None or params != self.params:
            return None
        return [step_outcome(line) for line in steps]

    def start(self, header: dict[str, Any]) -> None:
        """A new log (replacing another bisect's)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"kind": "start", "params": self.params, **header}) + "\n", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        """One record, on a line of its own even after a kill tore the last one (:mod:`harness.jsonlines`)."""
        append_line(self.path, json.dumps(record))


def step_outcome(line: StepLine) -> StepOutcome:
    """A logged step as the bisect carries it on (``resumed``: it ran in an earlier invocation)."""
    return StepOutcome(version=line.version, verdict=line.verdict, counts=RunCounts(**line.counts.model_dump()),
                       detail=line.detail, reason=line.reason, cells=dict(line.cells),
                       duration_s=line.duration_s, container_runs=line.container_runs, resumed=True)
