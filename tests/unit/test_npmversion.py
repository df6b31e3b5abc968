"""The one npm-version value type: spelled as npm spells it, ordered as PEP 440 orders it."""

from __future__ import annotations

import pytest

from harness.binaries.registry import check_version_shape
from harness.errors import UserError
from harness.lanes.sdk_cache import check_version
from harness.npmversion import NpmVersion, parse_version, version_key


def test_the_npm_spelling_is_kept_and_pep440_orders_it() -> None:
    versions = [NpmVersion.parse(v) for v in
                ("0.128.0", "0.128.0-alpha.1", "0.99.0", "0.128.0-local.3f9a1c2e", "0.128.1", "0.128.0-alpha.10")]
    assert [str(v) for v in sorted(versions)] == [
        "0.99.0", "0.128.0-alpha.1", "0.128.0-alpha.10", "0.128.0", "0.128.0-local.3f9a1c2e", "0.128.1"]
    assert parse_version(" 0.128.0-alpha.1 ") == "0.128.0-alpha.1"  # never 0.128.0a1
    assert version_key("0.128.0-alpha.1") < version_key("0.128.0")
    assert NpmVersion.parse("0.117.0").stable and not NpmVersion.parse("0.128.0-alpha.1").stable
    assert not NpmVersion.parse("0.128.0-local.3f9a1c2e").stable


@pytest.mark.parametrize(("text", "problem"), [
    ("0.117", "is not an X.Y.Z version"),
    ("01.2.3", "is not an X.Y.Z version"),
    ("0.128.0a1", "is not an X.Y.Z version"),
    ("0.99.0-linux-x64", "names a platform build, not a codex-cli version: write 0.99.0"),
    ("0.128.0-x_y", "is not an X.Y.Z version"),
    ("0.128.0-local.zz", "PEP 440 ranges cannot order"),
])
def test_what_is_not_a_version_is_named_with_the_fix(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        NpmVersion.parse(text)


def test_a_local_build_id_is_refused_where_only_npm_versions_go() -> None:
    assert NpmVersion.parse("0.169.0-local.f2b83a5d").text == "0.169.0-local.f2b83a5d"
    with pytest.raises(ValueError):
        NpmVersion.parse("0.169.0-local.f2b83a5d", local=False)


@pytest.mark.parametrize("check", [check_version_shape, check_version])
@pytest.mark.parametrize("text", ["0.117.0\n", " 0.117.0", "0.117", "0.99.0-linux-x64", "../0.117.0"])
def test_names_that_become_directories_take_the_string_as_given(check: object, text: str) -> None:
    assert callable(check)
    check("0.117.0")
    with pytest.raises(UserError):
        check(text)
