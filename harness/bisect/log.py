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

from harness.bisect.judge import StepOutcome

LOG_NAME = "bisect.jsonl"


class BisectLog:
    def __init__(self, path: Path, params: dict[str, Any]) -> None:
        self.path = path
        self.params = params

    def resumable(self) -> list[StepOutcome] | None:
        """The logged steps when the log is this bisect's (same parameters), else None."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        records = []
        for raw in lines:
            try:
                data = json.loads(raw)
            except ValueError:
                continue  # a line cut short by a kill
            if isinstance(data, dict):
                records.append(data)
        if not records or records[0].get("kind") != "start" or records[0].get("params") != self.params:
            return None
        steps = []
        for data in records[1:]:
            if data.get("kind") == "step":
                try:
                    steps.append(StepOutcome.from_json(data))
                except (KeyError, TypeError, ValueError):
                    continue
        return steps

    def start(self, header: dict[str, Any]) -> None:
        """A new log (replacing another bisect's)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"kind": "start", "params": self.params, **header}) + "\n", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
