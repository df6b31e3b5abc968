"""The lane protocol, its runner and the adapters import the standard library alone: they run inside
the per-version containers (python3 and Node only). The SDK cache is host-side and may use more."""

from __future__ import annotations

import sys

import pytest

from tests.unit.test_stdlib_only import _loaded_by

CONTAINER_MODULES = ("harness.lanes", "harness.lanes.protocol", "harness.lanes.runner", "harness.lanes.catalog",
                     "harness.lanes.python_adapter")


@pytest.mark.parametrize("module", CONTAINER_MODULES)
def test_lane_modules_import_only_the_standard_library(module: str) -> None:
    foreign = _loaded_by(module, []) - set(sys.stdlib_module_names) - {"harness", "__main__"}
    assert foreign == set(), f"{module} pulls in {sorted(foreign)}, which the containers do not have"
