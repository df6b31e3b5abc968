"""GitHub Actions: the shipped workflow (``.github/workflows/matrix.yml``), and what its merge job tells
GitHub about a merged out dir: report.md in the job summary, one ``::error`` annotation per cell that
missed its expectation.

The workflow file is the single copy: a checkout reads it from ``.github/workflows``, a wheel carries it
as ``harness/_bundled/github-matrix.yml`` (see pyproject.toml), ``codex-matrix ci github`` prints it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from harness import assets
from harness.errors import UserError
from harness.mdtext import open_fence
from harness.results import CellResult, RunResults

WORKFLOW_IN_CHECKOUT = Path(".github") / "workflows" / "matrix.yml"
WORKFLOW_BUNDLED = "github-matrix.yml"
INSTALL_LINE = re.compile(r"^(  CODEX_MATRIX_INSTALL: ).*$", re.M)
#: GitHub caps a step's summary at 1 MiB; past that the summary is dropped, so it is cut below it.
SUMMARY_MAX = 1_000_000
ANNOTATIONS_MAX = 50  # GitHub shows at most 10 error annotations per step, 50 per job


def workflow_text(install: str | None = None) -> str:
    """The workflow; ``install`` replaces the command that installs codex-matrix in each job."""
    path = assets.first_of(WORKFLOW_IN_CHECKOUT, WORKFLOW_BUNDLED)
    if path is None:
        raise UserError("this installation ships no GitHub workflow: reinstall codex-native-matrix")
    text = path.read_text(encoding="utf-8")
    if install is not None:
        if not install.strip() or "\n" in install:
            raise UserError("--install takes one shell command line, e.g. --install 'pip install codex-native-matrix'")
        text = INSTALL_LINE.sub(lambda m: m.group(1) + _yaml_scalar(install), text, count=1)
    return text


def _yaml_scalar(value: str) -> str:
    """A plain YAML scalar when it stays one, else a single-quoted one."""
    if re.fullmatch(r"[A-Za-z0-9_./=<>~+ -]+", value) and not value.startswith(("-", " ")) and ": " not in value:
        return value
    return "'" + value.replace("'", "''") + "'"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _why(cell: CellResult) -> str:
    bad = [t for t in cell.tests if t.outcome in ("fail", "error", "xpass")]
    parts = [f"{cell.status} (expected {cell.cell.expect})"]
    parts += [f"{t.name}: {t.message or t.outcome}" for t in bad[:3]]
    if len(bad) > 3:
        parts.append(f"… {len(bad) - 3} more failing tests")
    if not bad and cell.message:
        parts.append(cell.message.strip())
    return "\n".join(parts)


def error_annotations(results: RunResults) -> Iterator[str]:
    """``::error`` workflow commands, one per cell that missed its expectation (capped)."""
    missed = [c for c in results.cells if not c.met]
    for cell in missed[:ANNOTATIONS_MAX]:
        title = _escape_property(f"codex-matrix {cell.cell.id}")
        yield f"::error title={title}::{_escape_data(_why(cell))}"
    if len(missed) > ANNOTATIONS_MAX:
        yield f"::error title=codex-matrix::{len(missed) - ANNOTATIONS_MAX} more cells missed: see report.md"
    if results.interrupted:
        yield "::warning title=codex-matrix::the run was interrupted: unfinished cells are errors"


def summary_text(report_md: str) -> str:
    """report.md as the job summary, cut under GitHub's size cap with a pointer to the full file."""
    data = report_md.encode("utf-8")
    if len(data) <= SUMMARY_MAX:
        return report_md
    cut = data[: SUMMARY_MAX - 200].decode("utf-8", errors="ignore").rsplit("\n", 1)[0]
    fence = open_fence(cut)  # a cut inside a message's block would make the notice part of the block
    if fence is not None:
        cut += "\n" + fence
    return cut + "\n\n… cut at GitHub's summary size: the full report.md is in the artifact\n"
