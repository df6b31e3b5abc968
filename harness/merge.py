"""Several out dirs (CI shards, tox envs, reruns) → one RunResults, as if one run had made them.

Each input's ``results.json`` is read back through :meth:`RunResults.from_json`, the one reader of the
schema. A cell present in two inputs is kept once when both say exactly the same (the same shard
downloaded twice, a merged dir merged again) and refused when they differ: two different verdicts for
one cell mean two runs, and picking one silently would hide the other. The cells' artifact
directories are copied under ``<out>/raw/`` (their path below the input's ``raw/`` kept), so the merged
dir reads like a run's: reports, ``raw/`` and ``results.json`` pointing into it.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.errors import UserError
from harness.fingerprint import build_fingerprints
from harness.results import CellResult, RunResults, read_results
from harness.suite.protocol import CellSpec

RESULTS = "results.json"
RAW = "raw"


def results_path(given: Path) -> Path:
    """An input as typed: an out dir holding results.json, or the results.json file itself."""
    path = given / RESULTS if given.is_dir() else given
    if not path.is_file():
        raise UserError(f"{given}: no {RESULTS} there: give the --out dir of a run, a shard or a tox env "
                        "(e.g. out/codex0.117.0)")
    return path


def _below_raw(artifacts: str) -> PurePath | None:
    """``…/raw/0.117.0/cells/<id>`` → ``0.117.0/cells/<id>`` (None when the path has no ``raw`` part)."""
    parts = PurePath(artifacts).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == RAW:
            return PurePath(*parts[i + 1:]) if i + 1 < len(parts) else None
    return None


def locate_artifacts(artifacts: str | None, input_dir: Path) -> Path | None:
    """Where a cell's artifacts are now: below this input's ``raw/`` (a CI download moves the dir), or
    where the run wrote them; None when neither exists."""
    if not artifacts:
        return None
    rel = _below_raw(artifacts)
    candidates = ([input_dir / RAW / rel] if rel is not None else []) + [Path(artifacts)]
    return next((c for c in candidates if c.is_dir()), None)


def _comparable(cell: CellResult) -> dict[str, Any]:
    """What must agree for two copies of a cell to be the same result (not where its files are)."""
    data = cell.to_json()
    data.pop("artifacts")
    return data


def _version_key(cell: CellResult) -> tuple[int, Version | str]:
    try:
        return (0, Version(cell.cell.version))
    except InvalidVersion:
        return (1, cell.cell.version)


def merge_results(inputs: Sequence[Path], out: Path) -> RunResults:
    """Read every input, check cells agree, copy their artifacts under ``out/raw`` and return the union."""
    if not inputs:
        raise UserError("merge needs at least one input dir: codex-matrix merge out/shard-1 out/shard-2 --out out")
    loaded: list[tuple[Path, RunResults]] = []
    for given in inputs:
        path = results_path(given)
        loaded.append((path.parent, read_results(path)))
    kept: dict[str, tuple[CellResult, Path | None, Path]] = {}
    for input_dir, results in loaded:
        for cell in results.cells:
            where = locate_artifacts(cell.artifacts, input_dir)
            seen = kept.get(cell.cell.id)
            if seen is None:
                kept[cell.cell.id] = (cell, where, input_dir)
            elif _comparable(seen[0]) != _comparable(cell):
                raise UserError(f"cell {cell.cell.id} differs between {seen[2]} and {input_dir}: "
                                "merge only one run of it (drop one of the two dirs)")
    out_raw = out / RAW
    if out_raw.exists() and out.resolve() not in {d.resolve() for d, _ in loaded}:
        shutil.rmtree(out_raw)  # a previous merge's or run's files must not mix with these
    cells = []
    for cell, where, _ in kept.values():
        if where is not None:
            dest = out_raw / (_below_raw(str(where)) or PurePath(cell.cell.id))
            if dest.resolve() != where.resolve():
                shutil.copytree(where, dest, dirs_exist_ok=True)
            cell.artifacts = str(dest)
        cells.append(cell)
    cells.sort(key=_version_key)  # stable: a build's cells keep the order they ran in
    starts = [r.started for _, r in loaded]
    ends = [r.started + timedelta(seconds=r.duration_s) for _, r in loaded]
    return RunResults(started=min(starts), duration_s=(max(ends) - min(starts)).total_seconds(), cells=cells,
                      builds=build_fingerprints(cells), interrupted=any(r.interrupted for _, r in loaded))


MISSING = ("no input reported this cell: the job (shard or tox env) that should have run it did not write it; "
           "see that job's log")


def expect_cells(results: RunResults, expected: Sequence[CellSpec]) -> list[str]:
    """Add every expected cell that no input reported as an ``error`` (a cell that never ran is never green).

    Returns the ids added. Cells the inputs hold beyond the expected ones are kept.
    """
    have = {c.cell.id for c in results.cells}
    missing = [cell for cell in expected if cell.id not in have]
    results.cells.extend(CellResult(cell=cell, status="error", message=MISSING, unfinished="died") for cell in missing)
    results.cells.sort(key=_version_key)
    return [cell.id for cell in missing]
