"""The SDK compatibility probe's own parts: the sinkhole that keeps requests on the machine, the pinned
provider it hands the SDK, and the grid it prints."""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request

import pytest

from harness.fakeapi.codex_config import render_codex_config
from tests.benchmarks import sdk_compat


def test_the_sinkhole_journals_where_requests_were_going_and_answers_nothing() -> None:
    sink = sdk_compat.Sinkhole()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": sink.url, "https": sink.url}))
    for url in ("http://api.openai.com/v1/responses", "https://api.openai.com/v1/responses"):
        with pytest.raises((urllib.error.URLError, OSError)):
            opener.open(url, timeout=5)
    assert sink.hits == ["api.openai.com", "api.openai.com:443"]
    assert sink.since(1) == ["api.openai.com:443"]


def test_the_sdk_config_pins_the_same_provider_as_config_toml() -> None:
    url = "http://127.0.0.1:1/s/ok/t/v1"
    toml = tomllib.loads(render_codex_config(url))
    config = sdk_compat.provider_config(url)
    assert config["model_provider"] == toml["model_provider"] == "fake"
    assert config["model_providers"]["fake"] == toml["model_providers"]["fake"]


def test_the_documented_config_pins_no_provider_and_no_base_url() -> None:
    doc = tomllib.loads(sdk_compat.DOCUMENTED_CONFIG)
    assert "model_provider" not in doc and "openai_base_url" not in doc and "model_providers" not in doc
    assert doc["features"]["plugins"] is False


def test_the_grid_has_a_row_per_sdk_and_a_column_per_build() -> None:
    def pair(sdk: str, build: str, outcome: str) -> sdk_compat.Pair:
        return sdk_compat.Pair(sdk=sdk, build=build, mode="documented", scenario="ok", outcome=outcome, error=None,
                               events=[], final_text=None, exit_code=None, fake_posts=0, fake_seen=[], sinkhole=[],
                               wall_s=None, base_url_via=None)

    pairs = [pair("0.114.0", "0.117.0", "ok"), pair("0.114.0", "0.120.0", "hang"), pair("0.163.0", "0.117.0", "ok")]
    text = sdk_compat.grid(pairs, ["0.114.0", "0.163.0"], ["0.117.0", "0.120.0"], "documented", "ok")
    rows = text.splitlines()
    assert rows[1].split() == ["sdk", "0.117.0", "0.120.0"]
    assert rows[2].split() == ["0.114.0", "ok", "HANG"]
    assert rows[3].split() == ["0.163.0", "ok", "-"]
