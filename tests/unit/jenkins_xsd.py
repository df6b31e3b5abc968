"""Jenkins' JUnit schema (junit-10.xsd), for validating junit.xml, without committing a copy of it.

pytest validates its own JUnit output against this exact file and ships it in its source
distribution on PyPI (``testing/example_scripts/junit-10.xsd``). The first use downloads that sdist
(the version of pytest installed here) with pip and keeps the schema in the user cache dir; later
runs read the cached copy.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import platformdirs
import pytest

MEMBER = "testing/example_scripts/junit-10.xsd"


def jenkins_junit_xsd() -> Path:
    cache = Path(platformdirs.user_cache_dir("codex-native-matrix")) / "test-data" / f"pytest-{pytest.__version__}"
    target = cache / "junit-10.xsd"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", tmp, f"pytest=={pytest.__version__}"], check=True, capture_output=True)
        [sdist] = Path(tmp).glob("pytest-*.tar.gz")
        with tarfile.open(sdist) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(MEMBER))
            data = tar.extractfile(member)
            assert data is not None
            cache.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(data.read())
            partial.replace(target)
    return target
