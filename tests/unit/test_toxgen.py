"""tox.ini must offer exactly one `codexX.Y.Z` env per matrix.yaml build, and `-m matrix` must run them all."""

from __future__ import annotations

import configparser
from pathlib import Path

from harness.matrix import load_matrix
from harness.toxgen import tox_envs

ROOT = Path(__file__).resolve().parents[2]


def _tox() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    return parser


def _expand(spec: str) -> list[str]:
    """tox's generative `prefix{a,b}` env_list syntax (one brace group is all tox.ini uses)."""
    out: list[str] = []
    for part in [p.strip() for p in spec.replace("\n", " ").split(", ") if p.strip()]:
        if "{" in part:
            prefix, rest = part.split("{", 1)
            out += [prefix + v.strip() for v in rest.rstrip("}").split(",")]
        else:
            out.append(part)
    return out


def test_tox_envs_match_matrix_versions() -> None:
    expected = tox_envs(load_matrix().versions)
    env_list = _expand(_tox()["tox"]["env_list"])
    assert [e for e in env_list if e.startswith("codex")] == expected, (
        "tox.ini env_list disagrees with matrix.yaml: paste `codex-matrix list --format tox`"
    )


def test_matrix_label_runs_every_build() -> None:
    labels = _tox()["tox"]["labels"].strip()
    name, _, envs = labels.partition("=")
    assert name.strip() == "matrix"
    assert [e.strip() for e in envs.split(",")] == tox_envs(load_matrix().versions)
