"""``run --rerun-failed``: the cells of an earlier run that missed their expectation, as a selection.

Like Sonobuoy's ``--rerun-failed`` and pytest's ``--last-failed``: the earlier results.json names the
cells (read through :func:`harness.incoming.results.read_results`, the one reader of that file); the current
matrix.yaml gives their expectations, so a rerun after fixing the matrix or the build judges by today's
rules. The other selection flags still narrow (``--scenarios``; ``-k`` inside the containers).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from harness.errors import UserError
from harness.incoming.results import read_results
from harness.matrix import Selection
from harness.results import RunResults


def missed_ids(results: RunResults) -> list[str]:
    """Ids of the cells that missed their expectation (failed, errored, timed out or never finished)."""
    return [r.cell.id for r in results.cells if not r.met]


def rerun_selection(selection: Selection, results_arg: str, out_dir: Path) -> Selection | None:
    """``selection`` narrowed to the missed cells of a results.json; None (said on stderr) when none missed.

    ``results_arg`` is the flag's value: a path, or "" for ``<out_dir>/results.json``.
    """
    if selection.cells is not None:
        raise UserError("--rerun-failed picks the cells from the results file: drop --cells")
    source = Path(results_arg) if results_arg else out_dir / "results.json"
    ids = missed_ids(read_results(source))
    if not ids:
        print(f"every cell in {source} met its expectation: nothing to rerun", file=sys.stderr)
        return None
    print(f"rerunning {len(ids)} cells that missed their expectation in {source}: {', '.join(ids)}",
          file=sys.stderr)
    return replace(selection, cells=",".join(ids))
