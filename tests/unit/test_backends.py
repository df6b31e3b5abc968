"""The backend resolver's full truth table, plus the wording and ordering rules around it.

Discovery runs for real (tiny executables on a temp PATH that print ``codex-cli X.Y.Z``); only the
probe is injected, and it answers from ``codex exec --help`` texts recorded from the real builds.
Expected values come from the two tables below, written out by hand — not from the resolver's code.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.lane.backends import (
    BACKENDS,
    CAPABILITY_PROFILE,
    NATIVE_STATES,
    UNSUPPORTED_CAPABILITIES,
    BackendDecision,
    resolve_backend,
)
from harness.lane.executable import Executable
from harness.lane.probe import Capabilities, capabilities_from_help

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPLICIT_KEY = "sk-fixture-explicit-key"
ENV_KEY = "sk-fixture-env-key"

#: binary kind -> the real build whose version and recorded help it stands for (None: no binary)
BINARIES = {"modern": "0.117.0", "no-ephemeral": "0.98.0", "legacy": "0.20.0", "absent": None}
CREDENTIALS = ("explicit", "OPENAI_API_KEY", "CODEX_API_KEY", "auth.json", "none")
FLAGS = ("on", "off")
POLICIES = ("persistent", "ephemeral")
ANY = "*"

# Native state: the FIRST row that matches wins (that is the documented check order).
#   flag    binary          credential   policy        state
NATIVE_TABLE = [
    ("off", ANY, ANY, ANY, "locked"),
    ("on", "absent", ANY, ANY, "runtime-missing"),
    ("on", ANY, "none", ANY, "authentication-required"),
    ("on", "legacy", ANY, ANY, "degraded"),
    ("on", "no-ephemeral", ANY, "ephemeral", "degraded"),
    ("on", ANY, ANY, ANY, "ready"),
]

# (requested, native ready?, raw API key available?) -> (resolved, decision state)
# A raw key is an explicit key, OPENAI_API_KEY or CODEX_API_KEY; auth.json is not one.
RESOLUTION = {
    ("auto", True, True): ("api", "selected"),
    ("auto", True, False): ("adapter", "selected"),
    ("auto", False, True): ("api", "selected"),
    ("auto", False, False): ("adapter", "selected"),
    ("adapter", True, True): ("adapter", "selected"),
    ("adapter", True, False): ("adapter", "selected"),
    ("adapter", False, True): ("adapter", "selected"),
    ("adapter", False, False): ("adapter", "selected"),
    ("api", True, True): ("api", "selected"),
    ("api", True, False): ("adapter", "fallback"),
    ("api", False, True): ("api", "selected"),
    ("api", False, False): ("adapter", "fallback"),
    ("codex-native", True, True): ("codex-native", "selected"),
    ("codex-native", True, False): ("codex-native", "selected"),
    ("codex-native", False, True): ("api", "fallback"),
    ("codex-native", False, False): ("adapter", "fallback"),
}

# credential -> (credential_source, credential_origin, raw key available?)
CREDENTIAL_TABLE = {
    "explicit": ("explicit-api-key", "explicit", True),
    "OPENAI_API_KEY": ("explicit-api-key", "OPENAI_API_KEY", True),
    "CODEX_API_KEY": ("explicit-api-key", "CODEX_API_KEY", True),
    "auth.json": ("auth-json", "auth.json", False),
    "none": ("none", None, False),
}

PROTOCOL_TABLE = {"modern": "thread-events", "no-ephemeral": "thread-events", "legacy": "legacy", "absent": None}


def expected_native_state(flag: str, binary: str, credential: str, policy: str) -> str:
    for row in NATIVE_TABLE:
        if all(want in (ANY, got) for want, got in zip(row[:4], (flag, binary, credential, policy), strict=True)):
            return row[4]
    raise AssertionError("the table has a catch-all row")


def recorded_prober(calls: list[str]) -> Callable[[Executable], Capabilities]:
    def prober(exe: Executable) -> Capabilities:
        assert exe.version is not None
        calls.append(exe.version)
        help_text = (FIXTURES / f"codex-{exe.version}" / "exec-help.txt").read_text()
        return capabilities_from_help(exe.version, help_text)

    return prober


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backends")
    dirs: dict[str, Path] = {}
    for kind, version in BINARIES.items():
        d = root / f"bin-{kind}"
        d.mkdir()
        if version is not None:
            exe = d / "codex"
            exe.write_text(f"#!/bin/sh\necho 'codex-cli {version}'\n")
            exe.chmod(0o755)
        dirs[kind] = d
    (root / "home-auth" / ".codex").mkdir(parents=True)
    (root / "home-auth" / ".codex" / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-fixture-auth"}))
    (root / "home-empty").mkdir()
    dirs["home-auth"] = root / "home-auth"
    dirs["home-empty"] = root / "home-empty"
    return dirs


def environment(world: dict[str, Path], flag: str, binary: str, credential: str) -> dict[str, str]:
    env = {
        "PATH": str(world[binary]),
        "HOME": str(world["home-auth" if credential == "auth.json" else "home-empty"]),
    }
    if flag == "on":
        env["CODEX_NATIVE_LANE"] = "1"
    if credential in ("OPENAI_API_KEY", "CODEX_API_KEY"):
        env[credential] = ENV_KEY
    return env


CASES = list(itertools.product(FLAGS, BINARIES, CREDENTIALS, BACKENDS, POLICIES))


@pytest.mark.parametrize(("flag", "binary", "credential", "requested", "policy"), CASES)
def test_truth_table(
    world: dict[str, Path], flag: str, binary: str, credential: str, requested: str, policy: str
) -> None:
    calls: list[str] = []
    decision = resolve_backend(
        requested,
        policy=policy,  # type: ignore[arg-type]
        env=environment(world, flag, binary, credential),
        api_key=EXPLICIT_KEY if credential == "explicit" else None,
        prober=recorded_prober(calls),
    )
    native_state = expected_native_state(flag, binary, credential, policy)
    source, origin, raw_key = CREDENTIAL_TABLE[credential]
    resolved, state = RESOLUTION[(requested, native_state == "ready", raw_key)]

    assert (decision.native.state, decision.resolved, decision.state) == (native_state, resolved, state)
    assert decision.fallback_from == (requested if state == "fallback" else None)
    assert decision.requested == requested and decision.policy == policy
    if requested == "auto":
        assert decision.resolved != "codex-native"

    data = decision.to_dict()
    native = data["native"]
    assert (native["credential_source"], native["credential_origin"]) == (source, origin)
    assert native["protocol"] == PROTOCOL_TABLE[binary]
    if BINARIES[binary] is None:
        assert native["executable"] is None and calls == []
    else:
        assert native["executable"] == {
            "path": str(world[binary] / "codex"),
            "source": "system-path",
            "version": BINARIES[binary],
            "version_line": f"codex-cli {BINARIES[binary]}",
        }
        assert calls == [BINARIES[binary]]
    assert native["capabilities"]["profile"] == CAPABILITY_PROFILE == "headless-limited"
    assert native["capabilities"]["unsupported"] == list(UNSUPPORTED_CAPABILITIES)
    assert_reasons_are_honest(decision, data)


def assert_reasons_are_honest(decision: BackendDecision, data: dict[str, Any]) -> None:
    text = json.dumps(data)
    assert EXPLICIT_KEY not in text and ENV_KEY not in text and "sk-fixture-auth" not in text
    for reason in (decision.reason, decision.native.reason):
        assert reason and "\n" not in reason
    assert decision.native.reason.startswith(f"codex-native is {decision.native.state}: ")
    assert decision.native.state in NATIVE_STATES
    if decision.state == "fallback":
        assert f"falling back to {decision.resolved}" in decision.reason


def test_truth_table_is_complete() -> None:
    assert len(CASES) == 2 * 4 * 5 * 4 * 2 == 320
    states = {expected_native_state(f, b, c, p) for f, b, c, _, p in CASES}
    assert states == set(NATIVE_STATES)


# -- reasons a user can act on ----------------------------------------------------------------------


def native_reason(world: dict[str, Path], **kw: Any) -> str:
    flag, binary, credential = kw.pop("flag", "on"), kw.pop("binary", "modern"), kw.pop("credential", "CODEX_API_KEY")
    env = {**environment(world, flag, binary, credential), **kw.pop("env", {})}
    decision = resolve_backend("codex-native", env=env, prober=recorded_prober([]), **kw)
    return decision.native.reason


def test_reasons_name_problem_and_fix(world: dict[str, Path]) -> None:
    assert native_reason(world, flag="off") == "codex-native is locked: set CODEX_NATIVE_LANE=1 to enable it"
    assert "(it is 'true')" in native_reason(world, env={"CODEX_NATIVE_LANE": "true"})
    missing = native_reason(world, binary="absent")
    assert "no `codex` executable on PATH" in missing and "CODEX_CLI_PATH" in missing
    auth = native_reason(world, credential="none")
    assert "CODEX_API_KEY or OPENAI_API_KEY" in auth and "codex login" in auth and str(world["home-empty"]) in auth
    legacy = native_reason(world, binary="legacy")
    assert "codex-cli 0.20.0" in legacy and "legacy" in legacy and "0.44.0" in legacy and "upgrade" in legacy
    eph = native_reason(world, binary="no-ephemeral", policy="ephemeral")
    assert "--ephemeral" in eph and "persistent" in eph
    ready = native_reason(world)
    assert ready.startswith("codex-native is ready: codex-cli 0.117.0") and "CODEX_API_KEY" in ready


def test_check_order_when_everything_is_missing(world: dict[str, Path]) -> None:
    assert native_reason(world, flag="off", binary="absent", credential="none").startswith("codex-native is locked")
    assert native_reason(world, binary="absent", credential="none").startswith("codex-native is runtime-missing")
    assert native_reason(world, binary="legacy", credential="none").startswith(
        "codex-native is authentication-required"
    )


def test_explicit_codex_path_that_is_missing_does_not_fall_back_to_path(world: dict[str, Path]) -> None:
    reason = native_reason(world, codex_path=str(world["absent"] / "codex"))
    assert reason.startswith("codex-native is runtime-missing") and "explicit codex path" in reason
    assert reason.endswith("point it at an existing codex binary")


def test_unidentifiable_binary_is_degraded(tmp_path: Path) -> None:
    weird = tmp_path / "codex"
    weird.write_text("#!/bin/sh\necho 'not codex'\n")
    weird.chmod(0o755)
    caps = Capabilities(flags=("--cd", "--json", "--skip-git-repo-check"), protocol="unknown",
                        supports_ephemeral=False)
    decision = resolve_backend(
        "codex-native",
        env={"CODEX_NATIVE_LANE": "1", "CODEX_API_KEY": ENV_KEY},
        codex_path=str(weird),
        prober=lambda exe: caps,
    )
    assert (decision.native.state, decision.resolved) == ("degraded", "api")
    assert "unknown" in decision.native.reason


def test_explicit_codex_home_is_where_auth_json_is_looked_up(world: dict[str, Path]) -> None:
    env = {"CODEX_NATIVE_LANE": "1", "PATH": str(world["modern"])}
    decision = resolve_backend(
        "codex-native", env=env, codex_home=world["home-auth"] / ".codex", prober=recorded_prober([])
    )
    assert (decision.native.state, decision.native.credential.source) == ("ready", "auth-json")


def test_invalid_requests_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("native", env={})
    with pytest.raises(ValueError, match="completion policy"):
        resolve_backend("auto", policy="forever", env={})  # type: ignore[arg-type]
