"""Lane names, capabilities and the not-applicable rule."""

from __future__ import annotations

import pytest

from harness.lanes.catalog import LaneId, LaneNameError, adapter_argv, adapter_options, applies, parse_lane


@pytest.mark.parametrize(("text", "lane"), [
    ("python", LaneId("python", None, "default")),
    ("codex-sdk@0.163.0", LaneId("codex-sdk", "0.163.0", "documented")),
    ("codex-sdk@0.114.0:provider", LaneId("codex-sdk", "0.114.0", "provider")),
    (" codex-sdk@0.148.0-alpha.8 ", LaneId("codex-sdk", "0.148.0-alpha.8", "documented")),
])
def test_names_parse_and_print_back(text: str, lane: LaneId) -> None:
    assert parse_lane(text) == lane
    assert parse_lane(str(lane)) == lane


@pytest.mark.parametrize(("text", "reason"), [
    ("codex-sdk", "name the SDK version"),
    ("python@0.1.0", "the python lane is this checkout's"),
    ("codex-sdk@0.163.0:magic", "has no mode 'magic'"),
    ("rust-sdk@1.0.0", "names no lane"),
    ("codex-sdk@latest", "names no lane"),
])
def test_bad_names_say_how_to_fix_them(text: str, reason: str) -> None:
    with pytest.raises(LaneNameError, match=reason):
        parse_lane(text)


def test_a_test_needing_projection_does_not_apply_to_the_sdk() -> None:
    sdk, python = parse_lane("codex-sdk@0.163.0"), parse_lane("python")
    assert applies({"seam"}, sdk) and applies({"seam"}, python)
    assert not applies({"seam", "projection"}, sdk) and applies({"seam", "projection"}, python)
    assert not applies({"policy"}, sdk) and applies({"policy"}, python)


def test_adapters_and_their_options() -> None:
    sdk = parse_lane("codex-sdk@0.163.0:provider")
    assert adapter_argv(sdk)[0] == "node" and adapter_argv(sdk)[1].endswith("codex_sdk/adapter.mjs")
    assert adapter_argv(parse_lane("python"))[1:] == ["-m", "harness.lanes.python_adapter"]
    assert adapter_options(sdk, sdk_dist="/c/dist", provider_config={"model_provider": "fake"}) == {
        "sdk_dist": "/c/dist", "mode": "provider", "config": {"model_provider": "fake"}}
    assert adapter_options(parse_lane("python")) == {}
    with pytest.raises(ValueError, match="needs sdk_dist"):
        adapter_options(sdk)
