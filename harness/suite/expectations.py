"""What a cell is expected to do: the registry of expectation kinds, and the measured rules behind them.

An expectation kind names what a cell must show instead of the full native contract (a legacy build
falls back, a build without ``--ephemeral`` refuses an ephemeral run, …). The registry owns the names
and everything derived from them (the grid's tag and legend, the report's label, the native state the
resolver must report), so a new kind is one entry here plus a ``when:`` rule in ``matrix.yaml``;
contract tests that apply to only some kinds select them by property (``@pytest.mark.kinds``), so the
new kind's properties decide which tests it gets.

Standard library only: read by the host (matrix, console, reports) and by the contract suite.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.suite.policies import is_ephemeral


@dataclass(frozen=True)
class ExpectationKind:
    """``tag``: one letter in the console grid ('' for native); ``label``: the report's short note;
    ``legend``: what the tag means; ``native_state``: the codex-native state the resolver must report.

    What the harness does differently for a kind is a property of the kind, never a test of its name:
    ``legacy``: the build speaks the legacy stream, so its runs end as :func:`legacy_outcome` says (a
    legacy build that cannot complete waits for the lane's timeout) and get the short timeout;
    ``refuses_ephemeral``: an ephemeral run is refused before codex starts (nothing runs, nothing waits);
    ``answers_turns``: the build completes a turn with the cell's credential (the API accepts it).

    Contract tests choose the kinds they judge by property, never by name
    (``@pytest.mark.kinds("thread_stream")``: every kind whose named properties all hold; see
    :data:`SELECTORS`), so a new kind gets the tests its properties call for without editing them.
    """

    name: str
    tag: str
    label: str
    legend: str
    native_state: str
    legacy: bool = False
    refuses_ephemeral: bool = False
    answers_turns: bool = False
    #: a foreign lane's measured incompatibility: the lane outcomes (harness.lanes.protocol) it allows
    lane_outcomes: tuple[str, ...] = ()
    #: the lane's turn never reaches the API (an unsupported build, a base URL the build ignores)
    api_unreached: bool = False

    @property
    def thread_stream(self) -> bool:
        """codex runs and prints the thread-event stream (``--json``) the lane maps."""
        return not self.legacy and not self.refuses_ephemeral and not self.lane_failure

    @property
    def lane_failure(self) -> bool:
        """A foreign lane and a build that do not work together, in a measured way (``lane_outcomes``)."""
        return bool(self.lane_outcomes)

    @property
    def starts_codex(self) -> bool:
        """codex is started at all (a build refusing ``--ephemeral`` only refuses; a legacy one falls back)."""
        return self.legacy or not self.refuses_ephemeral

    @property
    def full_contract(self) -> bool:
        """The whole codex-native contract holds: the thread stream, and turns that complete."""
        return self.thread_stream and self.answers_turns

    @property
    def auth_failure(self) -> bool:
        """The thread stream, but the API refuses every turn (no credential, or a rejected one)."""
        return self.thread_stream and not self.answers_turns

    def has(self, properties: tuple[str, ...]) -> bool:
        """Whether every named property holds (``@pytest.mark.kinds(...)``)."""
        unknown = [p for p in properties if p not in SELECTORS]
        if unknown:
            raise ValueError(f"unknown expectation-kind property {unknown[0]!r}: use one of {', '.join(SELECTORS)}")
        return all(getattr(self, p) for p in properties)


NATIVE = "native"

EXPECTATIONS: dict[str, ExpectationKind] = {k.name: k for k in (
    ExpectationKind(NATIVE, "", "", "the full codex-native contract holds", "ready", answers_turns=True),
    ExpectationKind("legacy-fallback", "L", "legacy", "legacy stream → fallback", "degraded", legacy=True,
                    refuses_ephemeral=True, answers_turns=True),
    ExpectationKind("ephemeral-unsupported", "E", "no --ephemeral", "no --ephemeral → refused", "degraded",
                    refuses_ephemeral=True),
    ExpectationKind("auth-required", "A", "auth required", "no credential → auth required",
                    "authentication-required"),
    # a key is present, so the resolver says ready; only the API can tell the key is wrong
    ExpectationKind("auth-rejected", "R", "401", "key rejected (401)", "ready"),
    # Foreign lanes (harness.lanes): what a consumer of `codex exec --json` shows where it cannot work.
    # Their native_state is never read: the resolver tests need the projection capability they lack.
    # (crash: the SDK's EPIPE race when codex exits before reading the prompt)
    ExpectationKind("lane-unsupported", "U", "unsupported build", "build rejects the lane's flags → reported failure",
                    "n/a", lane_outcomes=("exit-nonzero", "crash"), api_unreached=True),
    ExpectationKind("lane-silent-empty", "S", "silent empty", "pre-release event schema → empty answer, no error",
                    "n/a", lane_outcomes=("silent-empty",)),
    ExpectationKind("lane-base-url-cliff", "C", "base-URL cliff", "baseUrl not honoured → API never reached",
                    "n/a", lane_outcomes=("exit-nonzero", "hang"), api_unreached=True),
)}
#: Expectation kinds of foreign lanes, and the lane outcomes (harness.lanes.protocol) each allows.
LANE_OUTCOMES: dict[str, tuple[str, ...]] = {k.name: k.lane_outcomes for k in EXPECTATIONS.values() if k.lane_outcomes}

#: The properties a contract test may select kinds by.
SELECTORS = ("full_contract", "thread_stream", "starts_codex", "answers_turns", "auth_failure", "legacy",
             "refuses_ephemeral", "lane_failure", "api_unreached")


def expected_history(policy: str, status: str) -> set[str]:
    """History completeness a run may truthfully claim."""
    if is_ephemeral(policy):
        return {"live-only"}
    if status == "completed":
        return {"hydrated"}
    return {"explicit-hydration-required"}


# Legacy builds (< 0.44) never print a terminal event. On an error 0.20.x never exits (the lane's
# timeout ends it: `interrupted`); from 0.21 they exit 0 after printing an error message (`failed`).
# Measured in containers on 0.20.0 (hangs) and 0.21.0, 0.28.0, 0.29.0, 0.34.0, 0.36.0, 0.40.0, 0.42.0.
LEGACY_HANGS_BEFORE = (0, 21)
# The lane hands an env key (CODEX_API_KEY or OPENAI_API_KEY) to a pre-0.44 build as OPENAI_API_KEY,
# which 0.20–0.34 send and 0.36–0.42 ignore (facts §4, #3189): there only auth.json reaches the API.
OPENAI_KEY_ENV_IGNORED_FROM = (0, 36)


# 0.8.0's built-in provider demands OPENAI_API_KEY in the environment and never reads an API key from
# auth.json: "Missing environment variable: `OPENAI_API_KEY`" (measured by the atlas; 0.20+ read it).
AUTH_JSON_KEY_READ_FROM = (0, 20)


def legacy_key_reaches_api(version: tuple[int, ...], api_sees: str, env_var: str | None) -> bool:
    """Whether a legacy build sends the setup's valid key (``api_sees``/``env_var`` from the setup)."""
    if api_sees != "valid":
        return False
    if env_var is None:  # auth.json
        return version[:2] >= AUTH_JSON_KEY_READ_FROM
    return version < OPENAI_KEY_ENV_IGNORED_FROM


# 0.23.0 answers a refused request (401) by sending it again at once, without end: the atlas measured 254
# requests in 6 s with no credential and 288 under the `unauthorized` scenario, against 1–2 on 0.22.0 and
# 0.25.0 (0.24 was never published). Only the lane's timeout ends such a run.
LEGACY_401_LOOP = ((0, 23), (0, 24))


def legacy_outcome(version: tuple[int, ...], authorised: bool, succeeds: bool, waits: bool,
                   refused: bool = False) -> dict[str, object]:
    """Thread status and exit code the lane must report for a legacy build's run of a scenario
    (``refused``: the fake answers 401 whatever the key, the ``unauthorized`` scenario)."""
    if authorised and succeeds:
        return {"status": "completed", "exit_code": 0}
    if version < LEGACY_HANGS_BEFORE:
        return {"status": "interrupted", "exit_code": None}
    if (refused or not authorised) and LEGACY_401_LOOP[0] <= version[:2] <= LEGACY_401_LOOP[1]:
        return {"status": "interrupted", "exit_code": None}
    if authorised and waits:  # the API never answers; only the lane's timeout ends the run
        return {"status": "interrupted", "exit_code": None}
    return {"status": "failed", "exit_code": 0}  # the fake API answered 401/429/500 or cut the stream
