"""The one reader of ``bisect.jsonl``: the bisect's own log, which a resumed bisect trusts step by step.

A step read back is a step not run again, so each line is checked as strictly as a shard: a ``start``
line with the bisect's parameters, ``step`` lines whose version is a version, whose verdict is one a
bisect gives (``old``, ``new``, ``skip``) and whose cells' statuses are statuses, and a ``result`` line.
Anything else is one line naming the file, the line and the field (:mod:`harness.jsonlines` reads the
lines, ignoring only a torn tail).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.errors import UserError
from harness.incoming.fields import (
    Count,
    Name,
    Seconds,
    Status,
    Strict,
    Text,
    Tree,
    Version,
    read_lines,
    shown,
    validate,
)

FIX = "delete it to start the bisect over (or pass another --out)"


class StartLine(Strict):
    kind: Literal["start"]
    params: dict[Name, Tree]


class CountsModel(Strict):
    met: Count = 0
    missed: Count = 0
    error: Count = 0


class StepLine(Strict):
    kind: Literal["step"]
    version: Version
    verdict: Literal["old", "new", "skip"]
    counts: CountsModel = Field(default_factory=CountsModel)
    detail: Text = ""
    reason: Text = ""
    cells: dict[Name, Status] = Field(default_factory=dict, max_length=10_000)
    duration_s: Seconds = 0.0
    container_runs: Count = 0


class ResultLine(Strict):
    kind: Literal["result"]


KINDS: dict[str, type[StartLine | StepLine | ResultLine]] = {"start": StartLine, "step": StepLine,
                                                           "result": ResultLine}


def read_bisect_log(path: Path) -> tuple[dict[str, Any] | None, list[StepLine]]:
    """(the start line's params, the logged steps); (None, []) for a missing or empty log, or one that
    does not begin with a start line (a new bisect then replaces it)."""
    params: dict[str, Any] | None = None
    steps: list[StepLine] = []
    for index, (number, data) in enumerate(read_lines(path, fix=FIX)):
        kind = data.get("kind") if isinstance(data, dict) else None
        model = KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise UserError(f"{shown(path)} line {number}: kind: not one of {', '.join(KINDS)}: {FIX}")
        line = validate(model, data, path, FIX, where=f" line {number}")
        if isinstance(line, StartLine):
            if index != 0:
                raise UserError(f"{shown(path)} line {number}: a second start line: {FIX}")
            params = dict(line.params)
        elif isinstance(line, StepLine):
            steps.append(line)
    return (params, steps) if params is not None else (None, [])
