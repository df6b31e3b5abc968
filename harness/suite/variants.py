"""How the harness launches codex in the worlds that reach the lane's rarer paths (a scenario's ``variant``).

A plain cell finds ``codex`` on PATH and runs it as is. Some lane paths are reached only when codex is
launched another way, so each variant below changes the :class:`~harness.lane.session.LaneRequest` and
says what it did (:class:`VariantSetup`): that record is the contract tests' oracle for the variant.

* ``wrap-exit`` / ``wrap-exit-zero``: a wrapper in front of the real build runs it unchanged and then
  exits with its own code (3, or 0 after codex exited 1): a non-zero exit after ``turn.completed``, and
  ``turn.failed`` with exit code 0, which no build produces on its own.
* ``wrap-inject``: the wrapper adds an event of a type no build prints and an item of a type no build
  prints just before ``turn.completed`` — what a future release adding types looks like to the lane.
* ``wrap-tamper``: after codex exited, the wrapper appends a different final text and a usage total with
  another cached count to the rollout, so hydration must find and name both differences.
* ``discover-env`` / ``discover-explicit``: codex is named through ``CODEX_CLI_PATH`` or an explicit
  path (a link to the real build), while PATH starts with a decoy ``codex`` of another version, so a
  lane that looks in the wrong place first reports the decoy.
* ``log-warn``: ``RUST_LOG=warn`` in codex's environment; builds then log warnings on stderr, and
  0.117/0.118 print the ephemeral backfill line the lane attributes to history.
* ``wrap-background``: a shell wrapper starts ``sleep 300 &`` (in codex's process group, holding its
  stdout and stderr) and then runs codex: after a normal exit nothing of the group may survive, and the
  lane must not wait for pipes only the leftover holds.
* ``both-keys`` / ``blank-key``: the credential order and what counts as a key: a valid
  ``CODEX_API_KEY`` beside an invalid ``OPENAI_API_KEY`` (the first wins), and a whitespace-only
  ``CODEX_API_KEY`` beside an ``auth.json`` holding the valid key (a blank key is no key).
* ``discover-missing``: ``CODEX_CLI_PATH`` names a file that does not exist, a decoy ``codex`` is first on
  PATH: the lane must refuse, naming the path, and never run the decoy or reach the API.

Standard library only: runs inside the per-version containers.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.fakeapi.scenarios import WRAPPER_EXIT
from harness.lane.session import LaneRequest
from harness.suite.credentials import INVALID_KEY

#: The file the decoy ``codex`` creates beside itself whenever it runs.
DECOY_RAN = "decoy-ran"
#: Files ``wrap-background`` writes into the run's work dir: its leftover's pid, and when codex exited.
LEFTOVER_PID = "leftover.pid"
CODEX_EXITED_AT = "codex-exited-at"
#: The path ``discover-missing`` names in CODEX_CLI_PATH (under the run's work dir; never created).
MISSING_NAME = "missing/codex"
#: The version line of the decoy ``codex`` put first on PATH by the discovery variants.
DECOY_VERSION_LINE = "codex-cli 0.0.1"
#: What the ``wrap-inject`` wrapper adds before ``turn.completed``: an unknown event type, and an
#: ``item.completed`` of an unknown item type.
INJECTED_EVENT_TYPE = "matrix.future_event"
INJECTED_ITEM_TYPE = "matrix_future_item"
#: What ``wrap-tamper`` appends to the rollout after codex exited: a final assistant text and a usage
#: total whose cached count is this much higher than the stream's, so hydration must see both differ.
TAMPERED_TEXT = "a rollout edited after the run"
TAMPERED_CACHED_DELTA = 100


def injected_lines() -> tuple[dict[str, object], ...]:
    """The objects ``wrap-inject`` adds, in order (each printed as one JSON line)."""
    return (
        {"type": INJECTED_EVENT_TYPE, "detail": {"note": "an event type from a future build", "n": 1}},
        {"type": "item.completed", "item": {"id": "item_future", "type": INJECTED_ITEM_TYPE,
                                            "text": "an item type from a future build"}},
    )


@dataclass(frozen=True)
class VariantSetup:
    """What a variant did: the oracle its contract tests compare the lane's report with."""

    name: str
    executable_path: str | None = None  # the path the lane must report (None: found on PATH as usual)
    executable_source: str | None = None  # "explicit" | "env" | None
    wrapper_exit: int | None = None  # the wrapper's exit code, when it overrides codex's
    injected: tuple[dict[str, object], ...] = field(default_factory=tuple)
    tampered: bool = False  # the wrapper appended a different final text and cached count to the rollout
    child_env: dict[str, str] = field(default_factory=dict)
    #: (source, origin, what the API sees) the lane must report when the variant sets credentials itself
    credential: tuple[str, str | None, str] | None = None
    work: str | None = None  # the run's work dir, where a variant's files are (wrap-background, decoys)
    missing_path: str | None = None  # the named path that holds nothing (discover-missing)


_WRAPPER = '''#!/usr/bin/python3
"""codex-matrix wrapper in front of the real codex build (harness.suite.variants)."""
import json, os, subprocess, sys
REAL = {real!r}
EXIT = {exit!r}
INJECT = [json.dumps(o, separators=(",", ":")).encode() + b"\\n" for o in {inject}]
TAMPER = {tamper!r}
args = sys.argv[1:]
if not args or args[0] != "exec" or "--help" in args or "-h" in args:
    os.execv(REAL, [REAL, *args])
proc = subprocess.Popen([REAL, *args], stdout=subprocess.PIPE)
usage = None
for line in proc.stdout:
    if b'"type":"turn.completed"' in line:
        usage = json.loads(line).get("usage")
        for extra in INJECT:
            sys.stdout.buffer.write(extra)
        INJECT = []
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
code = proc.wait()
if TAMPER and usage:
    home = os.path.join(os.environ["CODEX_HOME"], "sessions")
    found = sorted(os.path.join(d, f) for d, _, fs in os.walk(home) for f in fs if f.startswith("rollout-"))
    if found:
        total = dict(usage, cached_input_tokens=usage.get("cached_input_tokens", 0) + TAMPER["cached_delta"])
        lines = [{{"timestamp": "2000-01-01T00:00:00.000Z", "type": "event_msg",
                  "payload": {{"type": "agent_message", "message": TAMPER["text"]}}}},
                 {{"timestamp": "2000-01-01T00:00:00.000Z", "type": "event_msg",
                  "payload": {{"type": "token_count", "info": {{"total_token_usage": total}}}}}}]
        with open(found[-1], "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(o) + "\\n" for o in lines))
sys.exit(EXIT if EXIT is not None else (code if code >= 0 else 128 - code))
'''

_DECOY = f'''#!/bin/sh
# a codex that is not the build under test: a lane that finds it has looked in the wrong place
: > "$(dirname "$0")/{DECOY_RAN}"
case "$1" in --version) echo "{DECOY_VERSION_LINE}"; exit 0;; esac
echo "decoy codex: the lane ran the codex it found on PATH, not the one it was told to use" >&2
exit 2
'''


_BACKGROUND = '''#!/bin/sh
# codex-matrix wrapper: leaves a background child in codex's process group (harness.suite.variants)
if [ "$1" = exec ]; then
  case " $* " in *" --help "*|*" -h "*) exec {real} "$@";; esac
  sleep 300 &
  echo $! > {pid_file}
  {real} "$@"
  code=$?
  date +%s.%N > {exited_file}
  exit $code
fi
exec {real} "$@"
'''


def _write_executable(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def _wrapper(work: Path, real: str, exit_code: int | None, inject: Sequence[dict[str, object]],
             tamper: dict[str, object] | None = None) -> str:
    text = _WRAPPER.format(real=real, exit=exit_code, inject=repr(json.loads(json.dumps(list(inject)))),
                           tamper=tamper)
    return _write_executable(work / "wrapper" / "codex", text)


def _decoy_path(work: Path, path: str) -> str:
    decoy_dir = work / "decoy"
    _write_executable(decoy_dir / "codex", _DECOY)
    return f"{decoy_dir}{os.pathsep}{path}"


def _named_link(work: Path, real: str) -> str:
    link = work / "named" / "codex-under-test"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(real)
    return str(link)


Apply = Callable[[LaneRequest, Path, str], tuple[LaneRequest, VariantSetup]]


def _wrap_exit(code: int, name: str) -> Apply:
    def apply(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
        path = _wrapper(work, real, code, ())
        return replace(request, codex_path=path), VariantSetup(name, path, "explicit", wrapper_exit=code)
    return apply


def _wrap_inject(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    inject = injected_lines()
    path = _wrapper(work, real, None, inject)
    return replace(request, codex_path=path), VariantSetup("wrap-inject", path, "explicit", injected=inject)


def _wrap_tamper(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    tamper = {"text": TAMPERED_TEXT, "cached_delta": TAMPERED_CACHED_DELTA}
    path = _wrapper(work, real, None, (), tamper)
    return replace(request, codex_path=path), VariantSetup("wrap-tamper", path, "explicit", tampered=True)


def _discover(source: str) -> Apply:
    def apply(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
        env = dict(request.env or {})
        link = _named_link(work, real)
        env["PATH"] = _decoy_path(work, env.get("PATH", ""))
        if source == "env":
            env["CODEX_CLI_PATH"] = link
            return replace(request, env=env), VariantSetup(f"discover-{source}", link, "env")
        env["CODEX_CLI_PATH"] = str(work / "decoy" / "codex")  # explicit wins over the variable too
        return replace(request, env=env, codex_path=link), VariantSetup("discover-explicit", link, "explicit")
    return apply


def _wrap_background(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    text = _BACKGROUND.format(real=shlex.quote(real), pid_file=shlex.quote(str(work / LEFTOVER_PID)),
                              exited_file=shlex.quote(str(work / CODEX_EXITED_AT)))
    path = _write_executable(work / "wrapper" / "codex", text)
    return replace(request, codex_path=path), VariantSetup("wrap-background", path, "explicit", work=str(work))


def _both_keys(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    env = {**(request.env or {}), "OPENAI_API_KEY": INVALID_KEY}
    return replace(request, env=env), VariantSetup(
        "both-keys", credential=("explicit-api-key", "CODEX_API_KEY", "valid"))


def _blank_key(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    env = dict(request.env or {})
    key = env.get("CODEX_API_KEY", "")
    auth = Path(request.codex_home) / "auth.json"
    auth.write_text(json.dumps({"OPENAI_API_KEY": key}), encoding="utf-8")
    auth.chmod(0o600)
    env["CODEX_API_KEY"] = " \t "
    return replace(request, env=env), VariantSetup("blank-key", credential=("auth-json", "auth.json", "valid"))


def _discover_missing(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    env = dict(request.env or {})
    missing = str(work / MISSING_NAME)
    env["PATH"] = _decoy_path(work, env.get("PATH", ""))
    env["CODEX_CLI_PATH"] = missing
    return replace(request, env=env), VariantSetup("discover-missing", executable_source="env", work=str(work),
                                                   missing_path=missing)


def _log_warn(request: LaneRequest, work: Path, real: str) -> tuple[LaneRequest, VariantSetup]:
    child = {"RUST_LOG": "warn"}
    return replace(request, extra_env={**request.extra_env, **child}), VariantSetup("log-warn", child_env=child)


VARIANTS: dict[str, Apply] = {
    "wrap-exit": _wrap_exit(WRAPPER_EXIT, "wrap-exit"),
    "wrap-exit-zero": _wrap_exit(0, "wrap-exit-zero"),
    "wrap-inject": _wrap_inject,
    "wrap-tamper": _wrap_tamper,
    "discover-env": _discover("env"),
    "discover-explicit": _discover("explicit"),
    "log-warn": _log_warn,
    "wrap-background": _wrap_background,
    "both-keys": _both_keys,
    "blank-key": _blank_key,
    "discover-missing": _discover_missing,
}


def apply_variant(name: str | None, request: LaneRequest, work: Path, real: str | None) -> tuple[
        LaneRequest, VariantSetup | None]:
    """``request`` as the variant launches codex (unchanged for None); ``real`` is the build's path."""
    if name is None:
        return request, None
    if real is None:
        raise RuntimeError(f"variant {name!r} needs the real codex, and none was found on PATH")
    return VARIANTS[name](request, work, real)
