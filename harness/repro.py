"""Repro bundles: one JSON file that says exactly what ran, what it showed, and how to run it again.

``codex-matrix repro CELL`` writes one after running the cell; ``repro --bundle FILE`` reads it on any
machine, fetches the same build (the npm integrity and the binary's sha256 must match the bundle's),
runs the same cell with the same timeouts and compares the outcome. A bundle holds: the cell spec, the
image tag and id, the build's identity, the harness version and a digest of its code, the host, the
command line, the outcome (in results.json's cell shape) and per scenario the argv, the redacted
environment, codex's config.toml, stdout/stderr, the request journal, the transcript, the facts, the
lane's summary and the resolver's decision. Everything passes the redactor on the way out.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__, assets
from harness.binaries import CachedBuild
from harness.errors import UserError
from harness.redact import Redactor
from harness.results import CellResult
from harness.safepath import join_under
from harness.suite.protocol import ARTIFACTS, CellSpec

KIND = "codex-matrix-repro"
SCHEMA = 1
# Each per-scenario artifact (suite.protocol.ARTIFACTS) is embedded under its key: JSON as JSON, the rest as text.
MAX_TEXT = 2_000_000  # per artifact: a runaway stdout must not make a bundle nobody can open


@dataclass(frozen=True)
class BuildIdentity:
    """Which codex-cli build ran, in terms another machine can check after fetching it."""

    version: str
    npm_version: str
    tarball: str
    integrity: str  # the registry's SRI string of the tarball
    binary_sha256: str
    tree_sha256: str
    version_line: str

    @classmethod
    def of(cls, build: CachedBuild) -> BuildIdentity:
        return cls(version=build.version, npm_version=build.npm_version, tarball=build.tarball,
                   integrity=build.integrity, binary_sha256=build.sha256, tree_sha256=build.tree_sha256,
                   version_line=build.version_line)

    def check(self, build: CachedBuild) -> None:
        """The fetched build must be the bundle's, byte for byte (and of the version the bundle's cell names,
        which :mod:`harness.incoming.bundle` checked is this identity's version)."""
        if (build.version, build.npm_version) != (self.version, self.npm_version or build.npm_version):
            raise UserError(f"the fetched build is codex-cli {build.npm_version or build.version}, the bundle ran "
                            f"{self.npm_version or self.version}: replay it with the registry the bundle came from")
        if build.integrity != self.integrity:
            raise UserError(f"npm now serves codex-cli {self.version} with integrity {build.integrity[:24]}…, the "
                            f"bundle ran {self.integrity[:24]}…: the registry or mirror changed the package; "
                            "use the registry the bundle came from")
        if build.sha256 != self.binary_sha256:
            raise UserError(f"the fetched codex-cli {self.version} binary has sha256 {build.sha256[:16]}…, the "
                            f"bundle ran {self.binary_sha256[:16]}…: clear the build cache entry and retry")


def harness_digest() -> str:
    """sha256 over the harness code and the contract suite: tells whether two machines ran the same checks."""
    h = hashlib.sha256()
    roots = [(assets.PACKAGE_DIR, "harness"), (assets.contract_dir(), "contract")]
    for root, name in roots:
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" in path.parts or "_bundled" in path.parts:
                continue
            h.update(f"{name}/{path.relative_to(root)}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def harness_info() -> dict[str, str]:
    return {"version": __version__, "digest": harness_digest()}


def collect_scenarios(artifacts: Path, scenarios: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What each scenario's run left, read from the cell's artifact directory (a scenario is a name below
    it, never a path of its own; symlinks are not followed)."""
    out: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        d = join_under(artifacts, scenario)
        entry: dict[str, Any] = {}
        for key, name in ARTIFACTS.items():
            try:
                if d is None or (d / name).is_symlink():
                    raise FileNotFoundError(name)
                text = (d / name).read_text(encoding="utf-8", errors="replace")[:MAX_TEXT]
            except OSError:
                entry[key] = None
                continue
            if name.endswith(".json"):
                try:
                    entry[key] = json.loads(text)
                except ValueError:
                    entry[key] = text
            else:
                entry[key] = text
        out[scenario] = entry
    return out


@dataclass
class Bundle:
    cell: CellSpec
    build: BuildIdentity
    image: dict[str, str]  # tag, id
    timeouts: dict[str, float]  # codex_s, hang_s, container_s
    outcome: dict[str, Any]  # CellResult.to_json()
    scenarios: dict[str, dict[str, Any]]
    k_expr: str | None = None
    argv: list[str] = field(default_factory=list)
    suite_output: str = ""  # the contract suite's pytest output in the container
    harness: dict[str, str] = field(default_factory=lambda: harness_info())
    host: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def result(self) -> CellResult:
        return CellResult.from_json(self.outcome)

    def replay(self, filename: str) -> dict[str, str]:
        first = self.cell.scenarios[0] if self.cell.scenarios else "ok"
        return {
            "command": f"codex-matrix repro --bundle {filename}",
            "what it does": (f"fetches {self.build.npm_version or self.build.version} of @openai/codex from npm, "
                             "checks its integrity and the binary's sha256 against this bundle, builds or reuses "
                             "the image, runs this cell's scenarios in a container without network with the same "
                             "timeouts, and says whether the outcome matches"),
            "by hand": (f"codex-matrix repro {self.cell.id} --scenario {first} --shell "
                        "(a shell in the cell's container, the fake API running, the codex command printed)"),
        }

    def to_json(self, filename: str) -> dict[str, Any]:
        return {
            "kind": KIND, "schema": SCHEMA, "created": self.created, "cell": self.cell.to_json(),
            "k_expr": self.k_expr, "timeouts": self.timeouts, "build": vars(self.build), "image": self.image,
            "harness": self.harness, "host": self.host, "argv": self.argv, "replay": self.replay(filename),
            "outcome": self.outcome, "suite_output": self.suite_output, "scenarios": self.scenarios,
        }

    def write(self, path: Path, redactor: Redactor | None = None) -> Path:
        """Atomically, every string through the redactor before serialising (a mask must not break JSON)."""
        redactor = redactor or Redactor()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(redactor.dumps(self.to_json(path.name), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path


def host_info(docker_version: str | None) -> dict[str, str]:
    return {"platform": platform.platform(), "python": sys.version.split()[0], "docker": docker_version or "?"}


def outcome_json(result: CellResult) -> dict[str, Any]:
    """A cell result as the bundle stores it: results.json's shape, minus the host path of its artifacts."""
    data = result.to_json()
    data["artifacts"] = None
    return data


def compare(expected: CellResult, got: CellResult) -> list[str]:
    """How ``got`` differs from ``expected`` (empty: the same outcome): cell status and every test's outcome."""
    diffs = []
    if expected.status != got.status:
        diffs.append(f"cell status: {expected.status} → {got.status}")
    before = {t.name: t.outcome for t in expected.tests}
    after = {t.name: t.outcome for t in got.tests}
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            diffs.append(f"{name}: {before.get(name, 'not run')} → {after.get(name, 'not run')}")
    return diffs


def describe(result: CellResult) -> str:
    """``pass (expected native): 12 tests, 12 pass`` plus the first failures."""
    counts: dict[str, int] = {}
    for t in result.tests:
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    tally = ", ".join(f"{n} {o}" for o, n in counts.items())
    text = f"{result.status} (expected {result.cell.expect}): {len(result.tests)} tests"
    text += f", {tally}" if tally else ""
    for t in [t for t in result.tests if t.outcome in ("fail", "error", "xpass")][:5]:
        text += f"\n  {t.name}: {t.outcome}: {t.message}"
    if result.message and not result.tests:
        text += "\n  " + result.message.strip().splitlines()[0]
    return text
