"""tox plugin (tox 4 loads ``toxfile.py`` from the project root): ``tox -e codex<version>`` for any build.

tox only accepts environment names its configuration defines. The matrix's own builds are defined by
the ``matrix`` label in tox.ini (checked against matrix.yaml by tests/unit/test_toxgen.py); any other
published build, e.g. ``tox -e codex0.150.0``, is defined here on demand: the names asked for on the
command line (or in ``TOXENV``) that look like ``codexX.Y.Z`` are added through ``tox_extend_envs``,
and they take their settings from ``[testenv]`` like the matrix's builds, which runs
``codex-matrix run --versions {env_name}``.

tox calls ``tox_extend_envs`` before it has parsed the selection, but reads the names it returns only
when it first lists its environments, after ``tox_add_core_config`` has seen the parsed options: so
the hook returns a generator over names that the core-config hook fills in. Standard library + tox
only: the plugin runs in tox's own environment, where this project may not be installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tox.plugin import impl

if TYPE_CHECKING:
    from tox.config.sets import ConfigSet
    from tox.session.state import State

#: ``codex`` + an X.Y.Z version (npm pre-release tails allowed): the prefix keeps tox from reading the
#: version as a Python version (``0.117`` would be one).
CODEX_ENV = re.compile(r"codex\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?")
_requested: list[str] = []


def codex_envs(names: Iterable[str]) -> list[str]:
    """The names that ask for a codex build, in order, once each."""
    return list(dict.fromkeys(n for n in names if CODEX_ENV.fullmatch(n)))


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    selected = getattr(state.conf.options, "env", None)
    for name in codex_envs(selected or ()):
        if name not in _requested:
            _requested.append(name)


def _extra_envs() -> Iterator[str]:
    yield from _requested


@impl
def tox_extend_envs() -> Iterable[str]:
    return _extra_envs()
