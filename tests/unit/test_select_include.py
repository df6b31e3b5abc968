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
