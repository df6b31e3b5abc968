"""Several out dirs (CI shards, tox envs, reruns) → one RunResults, as if one run had made them.

Each input's ``results.json`` is read through :func:`harness.incoming.results.read_results`, the one
reader of the schema, which checks every field and finds each cell's raw files beside that file (never
where the file says they are). A cell present in two inputs is kept once when both say exactly the
same (the same shard downloaded twice, a merged dir merged again) and refused when they differ: two
different verdicts for one cell mean two runs, and picking one silently would hide the other.

Reading and checking write nothing (:func:`read_inputs`); only then does the command claim ``--out``
as ``run`` does (:mod:`harness.outdir`) and copy the cells' artifact directories under
``<out>/raw/<job>/cells/<cell>/`` (:func:`copy_artifacts`), so the merged dir reads like a run's.
``--out`` may be one of the inputs (merged in place), but never hold an input or lie inside one:
clearing it would delete what is being merged.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from packaging.version import Version

from harness.errors import UserError
from harness.fingerprint import build_fingerprints
from harness.incoming.fields import shown
from harness.incoming.results import RAW, read_results
from harness.npmversion import NpmVersion
from harness.results import CellResult, RunResults
from harness.safepath import join_under
from harness.suite.protocol import CELLS_DIR, CellSpec

RESULTS = "results.json"


def results_path(given: Path) -> Path:
    """An input as typed: an out dir holding results.json, or the results.json file itself."""
    path = given / RESULTS if given.is_dir() else given
    if not path.is_file():
        raise UserError(f"{shown(given)}: no {RESULTS} there: give the --out dir of a run, a shard or a tox env "
                        "(e.g. out/codex0.117.0)")
    return path


def _comparable(cell: CellResult) -> dict[str, Any]:
    """What must agree for two copies of a cell to be the same result (not where its files are)."""
    data = cell.to_json()
    data.pop("artifacts")
    return data


def _version_key(cell: CellResult) -> tuple[int, Version | str]:
    try:
        return (0, NpmVersion.parse(cell.cell.version).key)
    except ValueError:
        return (1, cell.cell.version)


@dataclass
class Inputs:
    """The inputs read and checked: their dirs and results, and each cell once (with the dir it came from)."""

    loaded: list[tuple[Path, RunResults]]
    cells: list[tuple[CellResult, Path]]

    @property
    def dirs(self) -> list[Path]:
        return [d for d, _ in self.loaded]


def read_inputs(inputs: Sequence[Path]) -> Inputs:
    """Read every input and check that cells agree; writes nothing."""
    if not inputs:
        raise UserError("merge needs at least one input dir: codex-matrix merge out/shard-1 out/shard-2 --out out")
    loaded: list[tuple[Path, RunResults]] = []
    for given in inputs:
        path = results_path(given)
        loaded.append((path.parent, read_results(path)))
    kept: dict[str, tuple[CellResult, Path]] = {}
    for input_dir, results in loaded:
        for cell in results.cells:
            seen = kept.get(cell.cell.id)
            if seen is None:
                kept[cell.cell.id] = (cell, input_dir)
            elif _comparable(seen[0]) != _comparable(cell):
                raise UserError(f"cell {cell.cell.id} differs between {shown(seen[1])} and {shown(input_dir)}: "
                                "merge only one run of it (drop one of the two dirs)")
    return Inputs(loaded, list(kept.values()))


def check_out_dir(out: Path, inputs: Inputs) -> bool:
    """Whether ``out`` is one of the inputs (merged in place); refuses an ``out`` that holds an input or
    lies inside one, since clearing or filling it would change what is being merged."""
    here = out.resolve()
    in_place = False
    for input_dir in inputs.dirs:
        there = input_dir.resolve()
        if there == here:
            in_place = True
        elif there.is_relative_to(here) or here.is_relative_to(there):
            raise UserError(f"--out {shown(out)} and the input {shown(input_dir)} are nested: merge would replace "
                            "files it reads; nothing was changed: pass an --out beside the inputs")
    return in_place


def copy_artifacts(inputs: Inputs, out: Path) -> list[CellResult]:
    """Copy each cell's artifact dir to ``out/raw/<job>/cells/<cell>`` and point the cell there.

    Only directories and regular files are copied: a symlink in a downloaded shard is left behind,
    so nothing outside the inputs can be read into ``out``.
    """
    cells = []
    for cell, _input_dir in inputs.cells:
        where = Path(cell.artifacts) if cell.artifacts else None
        dest = join_under(out, RAW, where.parent.parent.name, CELLS_DIR, cell.cell.id) if where else None
        if where is not None and dest is not None:
            if dest.resolve() != where.resolve():
                copy_plain(where, dest)
            cell.artifacts = str(dest)
        else:
            cell.artifacts = None
        cells.append(cell)
    cells.sort(key=_version_key)  # stable: a build's cells keep the order they ran in
    return cells


def copy_plain(src: Path, dest: Path) -> None:
    """``src``'s directories and regular files into ``dest`` (symlinks, devices and FIFOs skipped)."""
    for dirpath, dirnames, filenames in os.walk(src):
        here = Path(dirpath)
        target = dest / here.relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in filenames:
            path = here / name
            if not path.is_symlink() and path.is_file():
                shutil.copyfile(path, target / name)


def merged_results(inputs: Inputs, cells: list[CellResult]) -> RunResults:
    starts = [r.started for _, r in inputs.loaded]
    ends = [r.started + timedelta(seconds=r.duration_s) for _, r in inputs.loaded]
    return RunResults(started=min(starts), duration_s=(max(ends) - min(starts)).total_seconds(), cells=cells,
                      builds=build_fingerprints(cells), interrupted=any(r.interrupted for _, r in inputs.loaded))


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
