"""The legacy builds' outcome model (harness.suite.expectations), per measured release behaviour.

Each row is a measurement: 0.20.x never exits after an error; 0.21+ print the error and exit 0;
0.23.0 resends a refused (401) request without end (the atlas: 254-288 requests in 6 s), while its
other errors end like 0.22.0's and 0.25.0's.
"""

from __future__ import annotations

import pytest

from harness.suite.expectations import legacy_key_reaches_api, legacy_outcome

COMPLETED = {"status": "completed", "exit_code": 0}
FAILED = {"status": "failed", "exit_code": 0}
INTERRUPTED = {"status": "interrupted", "exit_code": None}


@pytest.mark.parametrize(("version", "authorised", "succeeds", "waits", "refused", "want"), [
    ((0, 20, 0), True, True, False, False, COMPLETED),
    ((0, 20, 0), True, False, False, True, INTERRUPTED),   # 0.20 hangs on any error
    ((0, 22, 0), False, True, False, False, FAILED),       # no key: 401, printed, exit 0
    ((0, 22, 0), True, False, False, True, FAILED),        # unauthorized scenario
    ((0, 23, 0), False, True, False, False, INTERRUPTED),  # no key: the 401 loop
    ((0, 23, 0), True, False, False, True, INTERRUPTED),   # unauthorized scenario: the 401 loop
    ((0, 23, 0), True, False, False, False, FAILED),       # a 400/500 ends as on 0.22
    ((0, 23, 0), True, True, False, False, COMPLETED),
    ((0, 25, 0), False, True, False, False, FAILED),
    ((0, 25, 0), True, False, True, False, INTERRUPTED),   # hang: the API never answers
])
def test_legacy_outcome(version: tuple[int, ...], authorised: bool, succeeds: bool, waits: bool, refused: bool,
                        want: dict[str, object]) -> None:
    assert legacy_outcome(version, authorised, succeeds, waits, refused) == want


@pytest.mark.parametrize(("version", "env_var", "sent"), [
    ((0, 8, 0), "OPENAI_API_KEY", True),   # the built-in provider's env_key
    ((0, 8, 0), None, False),              # auth.json: "Missing environment variable: `OPENAI_API_KEY`"
    ((0, 20, 0), None, True),
    ((0, 34, 0), "OPENAI_API_KEY", True),
    ((0, 36, 0), "OPENAI_API_KEY", False),  # #3189: 0.36-0.42 ignore the env key
    ((0, 36, 0), None, True),
])
def test_which_legacy_setups_reach_the_api(version: tuple[int, ...], env_var: str | None, sent: bool) -> None:
    assert legacy_key_reaches_api(version, "valid", env_var) is sent
    assert legacy_key_reaches_api(version, "none", env_var) is False
