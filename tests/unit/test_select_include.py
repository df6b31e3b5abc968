"""An include that names a credential keeps working when the command line selects another one."""

from __future__ import annotations

from harness.matrix import Selection, load_matrix, select


def test_an_include_for_one_credential_survives_selecting_another() -> None:
    config = load_matrix()
    none_cells = select(config, Selection(versions="0.169.0", credentials="none"))
    assert {c.credential for c in none_cells} == {"none"}
    key_cells = select(config, Selection(versions="0.169.0", credentials="codex-api-key,none", policies="ephemeral"))
    scenarios = {c.credential: c.scenarios for c in key_cells}
    assert "tool-timeout" in scenarios["codex-api-key"] and "tool-timeout" not in scenarios["none"]
    assert [c.policy for c in key_cells] == ["ephemeral", "ephemeral"]


def test_a_scenario_asked_for_reaches_the_cells_an_include_gives_their_own_list() -> None:
    """An include's scenario list replaces the default for its cells; a scenario asked for on the
    command line (registered, in neither list) must still reach those cells, not vanish from them."""
    config = load_matrix()
    narrow = [inc.model_copy(update={"scenarios": ["ok", "tool"]}) if inc.scenarios else inc for inc in config.include]
    config = config.model_copy(update={"include": narrow, "scenarios": ["ok"]})
    cells = select(config, Selection(versions="0.169.0", credentials="codex-api-key", scenarios="tool-race"))
    assert cells and all(c.scenarios == ("tool-race",) for c in cells)
    both = select(config, Selection(versions="0.169.0", credentials="codex-api-key,none", scenarios="tool,tool-race"))
    assert {c.credential: c.scenarios for c in both if c.policy == "ephemeral"} == {
        "codex-api-key": ("tool", "tool-race"), "none": ("tool", "tool-race")}
