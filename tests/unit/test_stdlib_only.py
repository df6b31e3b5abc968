"""What runs inside the per-version containers imports the standard library alone.

The containers hold python3 and pytest, nothing else, and the lane must stay embeddable: so
``harness.lane``, ``harness.fakeapi`` and the container-side suite (``harness.suite``) are imported here
in a fresh interpreter without site-packages (``python -S``), and every module it then holds must be
the standard library's or the package's own. The suite's pytest plugin may also use pytest itself.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness

PACKAGE_ROOT = Path(harness.__file__).resolve().parent.parent
CONTAINER_PACKAGES = ("harness.lane", "harness.fakeapi", "harness.suite")
PYTEST_WORLD = {"pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py", "exceptiongroup", "tomli", "pygments"}

_PROBE = """
import importlib, json, sys
sys.path.insert(0, {root!r})
sys.path.extend({extra!r})
importlib.import_module({module!r})
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""


def _modules() -> list[str]:
    names = []
    for package in CONTAINER_PACKAGES:
        names.append(package)
        path = PACKAGE_ROOT / package.replace(".", "/")
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return names


def _loaded_by(module: str, extra: list[str]) -> set[str]:
    code = _PROBE.format(root=str(PACKAGE_ROOT), extra=extra, module=module)
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd="/", check=False)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


@pytest.mark.parametrize("module", [m for m in _modules() if m != "harness.suite.plugin"])
def test_imports_only_the_standard_library(module: str) -> None:
    foreign = _loaded_by(module, []) - set(sys.stdlib_module_names) - {"harness", "__main__"}
    assert foreign == set(), f"{module} pulls in {sorted(foreign)}, which the containers do not have"


def test_suite_plugin_needs_only_pytest_beside_the_standard_library() -> None:
    pytest_dir = str(Path(pytest.__file__).resolve().parent.parent)
    foreign = _loaded_by("harness.suite.plugin", [pytest_dir])
    foreign -= set(sys.stdlib_module_names) | {"harness", "__main__"} | PYTEST_WORLD
    assert foreign == set()


def test_the_probe_can_fail() -> None:
    """The check sees a third-party import: the package's host side uses pydantic."""
    with pytest.raises(AssertionError):
        _loaded_by("harness.matrix", [])
