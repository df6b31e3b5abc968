"""Where the files that are not Python live: the default matrix, the image recipes, the contract suite.

From a checkout (or an editable install) they are the repository's own ``matrix.yaml``,
``containers/`` and ``tests/contract/``; a built wheel carries copies of the same files under
``harness/_bundled/`` (see ``[tool.hatch.build]`` in pyproject.toml), so an installed ``codex-matrix``
works in any directory. The checkout wins when both exist, so an edit is used at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import UserError

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent
_BUNDLED = PACKAGE_DIR / "_bundled"
MATRIX_NAME = "matrix.yaml"


def _first(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.exists()), None)


def first_of(in_checkout: Path, bundled: str) -> Path | None:
    """A data file: the checkout's (path relative to its root) when present, else the wheel's copy."""
    return _first(_CHECKOUT / in_checkout, _BUNDLED / bundled)


def packaged_matrix_path() -> Path:
    """The default matrix this installation ships (the checkout's, or the wheel's copy)."""
    found = _first(_CHECKOUT / MATRIX_NAME, _BUNDLED / MATRIX_NAME)
    if found is None:
        raise UserError("this installation has no default matrix.yaml: reinstall codex-native-matrix, "
                        "or pass --matrix PATH")
    return found


def default_matrix_path() -> Path:
    """``./matrix.yaml`` when the current directory has one, else the packaged default."""
    local = Path(MATRIX_NAME)
    return local if local.is_file() else packaged_matrix_path()


def containers_dir() -> Path:
    """The image recipes: ``base/`` and ``codex/`` (``CODEX_MATRIX_CONTAINERS`` overrides, e.g. in tests)."""
    override = os.environ.get("CODEX_MATRIX_CONTAINERS", "").strip()
    found = Path(override) if override else _first(_CHECKOUT / "containers", _BUNDLED / "containers")
    if found is None or not (found / "base").is_dir() or not (found / "codex").is_dir():
        raise UserError("image recipes (containers/) not found: reinstall codex-native-matrix or run from a checkout")
    return found


def contract_dir() -> Path:
    """The contract suite's test files, mounted into every per-version container."""
    found = _first(_CHECKOUT / "tests" / "contract", _BUNDLED / "contract")
    if found is None or not (found / "conftest.py").is_file():
        raise UserError("the contract suite (tests/contract) not found: reinstall codex-native-matrix "
                        "or run from a checkout")
    return found
