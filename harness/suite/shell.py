"""``python -m harness.suite.shell CELL_JSON SCENARIO``: a shell in one cell's world, inside its container.

What ``codex-matrix repro CELL --shell`` execs into the cell's container (Test Kitchen's ``login``): the
fake API runs for the scenario, HOME/CODEX_HOME/cwd and the credential are set up exactly as the
contract suite sets them up for the cell, and the codex command the lane would run is printed (and held
in ``$CNM_CODEX_COMMAND``), built by the lane's own seam functions so it is the same argv and
environment. The fake key lives only in the shell's ``$CNM_FAKE_KEY``; the printed command names the
variable, never the key. When the shell exits the fake API stops and the work directory goes.

Standard library only: runs inside the per-version containers.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.fakeapi import FakeResponsesAPI, write_codex_config
from harness.fakeapi.scenarios import SCENARIOS
from harness.lane.credentials import resolve_credential
from harness.lane.executable import discover_executable
from harness.lane.probe import probe
from harness.lane.seam import SeamRefused, SeamRequest, build_argv, build_env
from harness.suite.cellrun import PROMPT, config_overrides
from harness.suite.credentials import CREDENTIAL_SETUPS, SetupContext
from harness.suite.model import learn_model
from harness.suite.protocol import CONTAINER_WORKROOT, CellSpec

WORK = Path(CONTAINER_WORKROOT) / "shell"
KEY_VAR = "CNM_FAKE_KEY"
COMMAND_VAR = "CNM_CODEX_COMMAND"


def render_command(argv: Sequence[str], env: Mapping[str, str], secret: str) -> str:
    """``env -i K=V … codex exec … </dev/null`` with the key shown as ``"$CNM_FAKE_KEY"``."""
    parts = ["env", "-i"]
    for name, value in env.items():
        parts.append(f'{name}="${KEY_VAR}"' if value == secret else shlex.quote(f"{name}={value}"))
    return " ".join([*parts, *(shlex.quote(a) for a in argv), "</dev/null"])


def lane_command(cell: CellSpec, env: Mapping[str, str], codex_home: Path, cwd: Path,
                 secret: str) -> tuple[str | None, str]:
    """(the command the lane runs for this cell, what it is) — or (None, why the lane refuses to run it)."""
    executable = discover_executable(None, env)
    if executable is None:
        return None, "no codex on PATH"
    request = SeamRequest(executable=executable, prompt=PROMPT, cwd=cwd, policy=cell.policy,  # type: ignore[arg-type]
                          codex_home=codex_home, credential=resolve_credential(None, env, codex_home),
                          config_overrides=config_overrides(cell))
    caps = probe(executable)
    try:
        argv = build_argv(request, caps)
    except SeamRefused as exc:
        return None, f"the lane refuses this run: {exc.reason}"
    return render_command(argv, build_env(request), secret), f"{executable.version_line} ({caps.protocol})"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m harness.suite.shell CELL_JSON SCENARIO", file=sys.stderr)
        return 2
    cell = CellSpec.from_json(json.loads(argv[0]))
    scenario = argv[1]
    secret = "sk-matrix-" + secrets.token_hex(16)
    shutil.rmtree(WORK, ignore_errors=True)
    home, codex_home, cwd = WORK / "home", WORK / "codex-home", WORK / "cwd"
    for d in (home, codex_home, cwd):
        d.mkdir(parents=True)
    model = learn_model()
    try:
        with FakeResponsesAPI(valid_keys=[secret]) as api:
            write_codex_config(codex_home, api.provider_url(scenario, f"{cell.id}.shell"),
                               model=SCENARIOS[scenario].model or model.slug)
            prepared = CREDENTIAL_SETUPS[cell.credential].prepare(SetupContext(home, codex_home, secret))
            env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "CODEX_HOME": str(codex_home),
                   "LANG": "C.UTF-8", **prepared.env}
            command, what = lane_command(cell, env, codex_home, cwd, secret)
            print(f"cell {cell.id} (expected {cell.expect}), scenario {scenario}: fake API at {api.base_url}, "
                  f"credential: {prepared.how}, model: {SCENARIOS[scenario].model or model.slug or 'build default'}",
                  flush=True)
            if command is None:
                print(what, flush=True)
            else:
                print(f"{what}; the lane runs (also in ${COMMAND_VAR}; run it with: eval \"${COMMAND_VAR}\"):\n"
                      f"  {command}", flush=True)
            shell_env = {**env, KEY_VAR: secret, COMMAND_VAR: command or "", "PS1": f"[{cell.id} {scenario}] \\w$ ",
                         "TERM": "xterm"}
            interactive = sys.stdin.isatty()
            return subprocess.call(["bash", "--norc", "--noprofile", *(["-i"] if interactive else [])],
                                   env=shell_env, cwd=cwd)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
