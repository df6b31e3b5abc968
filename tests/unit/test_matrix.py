"""matrix.yaml validation, expansion (include/exclude), expectations, xfail and command-line selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UserError
from harness.fakeapi.scenarios import REACH_SCENARIOS
from harness.matrix import (
    CREDENTIALS,
    POLICIES,
    SCENARIOS,
    Selection,
    expand,
    load_matrix,
    select,
)
from harness.suite.protocol import KnownRegression

BASE = """\
versions: [0.20.0, 0.44.0, 0.117.0]
credentials: [codex-api-key, none]
policies: [ephemeral, persistent]
scenarios: [ok, hang]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_matrix_is_the_issue_matrix() -> None:
    config = load_matrix()
    assert config.versions == ["0.20.0", "0.44.0", "0.80.0", "0.98.0", "0.117.0", "0.130.0", "0.142.0", "0.169.0"]
    assert set(config.credentials) == set(CREDENTIALS)  # every registered setup runs by default
    assert tuple(config.policies) == POLICIES
    # every registered scenario runs by default (tool-race too: one deterministic run a cell), except the
    # worlds that reach the lane's rarer paths, which run on the codex-api-key cells only
    assert tuple(config.scenarios) == tuple(s for s in SCENARIOS if s not in REACH_SCENARIOS)
    cells = expand(config)
    for cell in cells:
        reach = [s for s in cell.scenarios if s in REACH_SCENARIOS]
        assert reach == (list(REACH_SCENARIOS) if cell.credential == "codex-api-key" else []), cell.id
        assert [s for s in cell.scenarios if s not in REACH_SCENARIOS] == list(config.scenarios), cell.id
    assert len(cells) == 8 * len(CREDENTIALS) * 2
    by_id = {c.id: c for c in cells}
    assert by_id["codex0.20.0-codex-api-key-persistent"].expect == "legacy-fallback"
    assert by_id["codex0.44.0-codex-api-key-ephemeral"].expect == "ephemeral-unsupported"
    assert by_id["codex0.117.0-codex-api-key-ephemeral"].expect == "native"
    assert by_id["codex0.117.0-none-persistent"].expect == "auth-required"
    assert by_id["codex0.169.0-invalid-key-ephemeral"].expect == "auth-rejected"


def test_cell_ids_follow_schema(tmp_path: Path) -> None:
    cells = expand(load_matrix(write(tmp_path, BASE)))
    assert [c.id for c in cells][:3] == [
        "codex0.20.0-codex-api-key-ephemeral", "codex0.20.0-codex-api-key-persistent",
        "codex0.20.0-none-ephemeral",
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (BASE + "colour: red\n", 5, "unknown key 'colour'"),
        (BASE.replace("none]", "nobody]"), 2, "unknown credentials value 'nobody'"),
        (BASE.replace("0.117.0]", "0.117]"), 1, "not an X.Y.Z version"),
        (BASE + "expectations:\n  - when: {versions: \"<<0.44\"}\n    expect: legacy-fallback\n    reason: x\n",
         6, "not a PEP 440 version range"),
        (BASE + "expectations:\n  - when: {policies: [forever]}\n    expect: native\n    reason: x\n",
         6, "unknown policies value 'forever'"),
        (BASE + "timeouts: {codex_s: -1}\n", 5, "greater than 0"),
        (BASE + "xfail:\n  - when: {}\n    reason: r\n    url: x\n", 8, "unknown key 'url'"),
        (BASE + "xfail:\n  - when: {}\n    reason: r\n    tests: [grammar]\n", 8, "not a contract test name"),
    ],
)
def test_validation_errors_name_line_and_fix(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_matrix(path)
    message = str(err.value)
    assert f"{path}:{line}:" in message, message
    assert fragment in message
    assert "\n" not in message


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "exclude: [\n")
    with pytest.raises(UserError, match=r"matrix.yaml:\d+: not valid YAML"):
        load_matrix(path)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--matrix"):
        load_matrix(tmp_path / "nope.yaml")


def test_exclude_and_include_follow_github_semantics(tmp_path: Path) -> None:
    text = BASE + (
        "exclude:\n  - {version: 0.20.0, credential: none}\n"
        "include:\n  - {version: 0.44.0, credential: none, scenarios: [ok]}\n"
        "  - {version: 0.169.0, credential: codex-api-key, policy: persistent}\n"
    )
    cells = {c.id: c for c in expand(load_matrix(write(tmp_path, text)))}
    assert "codex0.20.0-none-ephemeral" not in cells
    assert "codex0.20.0-codex-api-key-ephemeral" in cells
    assert cells["codex0.44.0-none-persistent"].scenarios == ("ok",)
    assert cells["codex0.44.0-codex-api-key-persistent"].scenarios == ("ok", "hang")
    assert cells["codex0.169.0-codex-api-key-persistent"].scenarios == ("ok", "hang")
    assert len(cells) == 3 * 2 * 2 - 2 + 1


def test_include_without_full_coordinates_is_an_error(tmp_path: Path) -> None:
    text = BASE + "include:\n  - {version: 0.150.0}\n"
    with pytest.raises(UserError, match="lacks credential, policy"):
        expand(load_matrix(write(tmp_path, text)))


def test_expectations_first_match_wins_and_xfail_is_per_scenario(tmp_path: Path) -> None:
    text = BASE + (
        "expectations:\n"
        "  - when: {versions: \"<0.44\"}\n    expect: legacy-fallback\n    reason: old\n"
        "  - when: {credentials: [none]}\n    expect: auth-required\n    reason: nokey\n"
        "xfail:\n"
        "  - when: {versions: \">=0.117,<0.118\", scenarios: [hang]}\n    reason: hangs\n    link: https://x/1\n"
    )
    cells = {c.id: c for c in expand(load_matrix(write(tmp_path, text)))}
    assert cells["codex0.20.0-none-ephemeral"].expect == "legacy-fallback"
    assert cells["codex0.44.0-none-ephemeral"].expect == "auth-required"
    assert cells["codex0.44.0-codex-api-key-ephemeral"].expect == "native"
    assert cells["codex0.117.0-codex-api-key-ephemeral"].known == {
        "hang": KnownRegression(reason="hangs", link="https://x/1")}
    assert cells["codex0.44.0-codex-api-key-ephemeral"].known == {}


def test_selection_narrows_and_accepts_unlisted_versions(tmp_path: Path) -> None:
    config = load_matrix(write(tmp_path, BASE))
    cells = select(config, Selection(versions="0.117.0,codex0.150.0", credentials="none", policies="persistent",
                                     scenarios="ok"))
    assert [c.id for c in cells] == ["codex0.117.0-none-persistent", "codex0.150.0-none-persistent"]
    assert all(c.scenarios == ("ok",) for c in cells)


def test_flags_accept_any_registered_value_not_only_matrix_yaml_ones(tmp_path: Path) -> None:
    """As --versions takes any npm release, the other axes take any registered value (issue 25)."""
    config = load_matrix(write(tmp_path, BASE.replace("[codex-api-key, none]", "[codex-api-key]") + """\
expectations:
  - {when: {credentials: [none]}, expect: auth-required, reason: no key}
xfail:
  - when: {scenarios: [tool-race]}
    reason: a race
"""))
    cells = select(config, Selection(versions="0.117.0", credentials="auth-json,none", policies="persistent",
                                     sandboxes="read-only", scenarios="tool-race,ok"))
    assert [c.id for c in cells] == ["codex0.117.0-auth-json-persistent-read-only",
                                     "codex0.117.0-none-persistent-read-only"]
    assert all(c.scenarios == ("ok", "tool-race") for c in cells)  # matrix.yaml's first, in its order
    assert all(set(c.known) == {"tool-race"} for c in cells)  # the rules apply to what was added
    assert [c.expect for c in cells] == ["native", "auth-required"]


def test_flags_narrow_cells_that_include_adds(tmp_path: Path) -> None:
    config = load_matrix(write(tmp_path, BASE + """\
include:
  - {version: 0.117.0, credential: auth-json, policy: ephemeral, sandbox: workspace-write}
"""))
    assert "codex0.117.0-auth-json-ephemeral-workspace-write" in [c.id for c in select(config, Selection())]
    for selection in (Selection(credentials="none"), Selection(policies="persistent"),
                      Selection(sandboxes="danger-full-access")):
        ids = [c.id for c in select(config, selection)]
        assert "codex0.117.0-auth-json-ephemeral-workspace-write" not in ids, selection


def test_a_value_named_twice_runs_once(tmp_path: Path) -> None:
    cells = select(load_matrix(write(tmp_path, BASE)), Selection(versions="0.117.0", credentials="none,none",
                                                               policies="persistent", scenarios="ok,ok"))
    assert [(c.id, c.scenarios) for c in cells] == [("codex0.117.0-none-persistent", ("ok",))]


@pytest.mark.parametrize(
    ("selection", "fragment"),
    [
        (Selection(sandboxes="none"), "--sandboxes: unknown value 'none': use one of read-only, "),
        (Selection(scenarios="tool-rac"), "use one of ok, tool, write-file, tool-race, "),
        (Selection(credentials="nobody"), "--credentials: unknown value 'nobody'"),
        (Selection(policies="sometimes"), "--policies: unknown value 'sometimes'"),
        (Selection(scenarios="explode"), "--scenarios: unknown value 'explode'"),
        (Selection(versions="latest"), "--versions: 'latest' is not an X.Y.Z version"),
    ],
)
def test_bad_selection_is_one_clear_error(tmp_path: Path, selection: Selection, fragment: str) -> None:
    with pytest.raises(UserError) as err:
        select(load_matrix(write(tmp_path, BASE)), selection)
    assert fragment in str(err.value)


@pytest.mark.parametrize("version", ["0.128.0-alpha.1", "0.46.0-beta.2", "1.0.0-rc.1", "0.117.0"])
def test_npm_prereleases_keep_their_npm_spelling_everywhere(tmp_path: Path, version: str) -> None:
    """`run --versions 0.128.0-alpha.1` must name what `fetch 0.128.0-alpha.1` downloads, never 0.128.0a1."""
    from harness.binaries.registry import check_version_shape

    check_version_shape(version)  # what fetch accepts
    config = load_matrix(write(tmp_path, BASE))
    cells = select(config, Selection(versions=version, credentials="none", policies="persistent"))
    assert [c.version for c in cells] == [version]
    assert [c.id for c in cells] == [f"codex{version}-none-persistent"]
    again = select(config, Selection(cells=cells[0].id))  # the id round-trips through --cells
    assert [c.id for c in again] == [cells[0].id]


def test_prereleases_sort_before_their_release_and_match_pep440_ranges(tmp_path: Path) -> None:
    text = BASE.replace("0.117.0]", "0.117.0, 0.128.0, 0.128.0-alpha.1]") + (
        "expectations:\n  - when: {versions: \">=0.128.0a0,<=0.128.0rc9\"}\n"
        "    expect: native\n    reason: prerelease\n")
    cells = [c for c in expand(load_matrix(write(tmp_path, text))) if c.credential == "none"
             and c.policy == "persistent"]
    assert [c.version for c in cells][-2:] == ["0.128.0-alpha.1", "0.128.0"]
    assert cells[-2].expect_reason == "prerelease" and cells[-1].expect_reason != "prerelease"


@pytest.mark.parametrize(("value", "fragment"), [
    ("0.128.0a1", "is not an X.Y.Z version"),  # PEP 440 spelling: npm has no such version
    ("0.99.0-linux-x64", "names a platform build"),
    ("01.2.3", "is not an X.Y.Z version"),
    ("0.1.0-", "is not an X.Y.Z version"),
    ("0.1.0-foo.bar", "cannot order"),
])
def test_versions_npm_would_not_publish_are_refused(tmp_path: Path, value: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        select(load_matrix(write(tmp_path, BASE)), Selection(versions=value))
