"""Fake OpenAI Responses API (SSE) for driving real codex builds offline; standard library only.

Runs on loopback inside each per-version container (and on the host for ``lane run``). One server
serves many cells: the scenario and a per-cell tag are part of the provider URL.
"""

from harness.fakeapi.codex_config import write_codex_config
from harness.fakeapi.scenarios import SCENARIOS
from harness.fakeapi.server import FakeResponsesAPI

__all__ = ["SCENARIOS", "FakeResponsesAPI", "write_codex_config"]
