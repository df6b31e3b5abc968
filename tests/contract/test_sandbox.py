"""codex's own sandbox, as users run it: the lane reports what codex reports about a sandboxed command.

``write-file`` asks for a command that writes a file in the working directory: codex's sandbox allows
it in ``workspace-write`` and ``danger-full-access`` and refuses it in ``read-only``. How a refusal shows
differs by build (an item with status failed and the shell's error, or — 0.98+ at times — no command
item at all); the lane must neither hide it nor invent a success.
"""

from __future__ import annotations

import pytest

from harness.fakeapi.scenarios import WRITE_FILE
from harness.suite.cellrun import Outcome
from harness.suite.facts import command_items

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


def _completed(outcome: Outcome) -> dict[str, dict]:
    return {str(e.data.get("item_id")): e.data for e in outcome.result.mapped.events if e.kind == "tool_completed"}


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("tool", "write-file")
def test_lane_reports_each_command_as_codex_printed_it(outcome: Outcome) -> None:
    seam = outcome.result.seam
    assert seam is not None, f"the lane did not run codex: {outcome.result.refused}"
    lane = _completed(outcome)
    printed = command_items(seam.stdout)
    assert sorted(lane) == sorted(str(c["id"]) for c in printed), "the lane's commands differ from codex's items"
    for command in printed:
        got = lane[str(command["id"])]
        assert (got["status"], got["exit_code"]) == (command["status"], command["exit_code"]), (got, command)
        assert str(got["output"]).startswith(command["output"][:100])


@pytest.mark.kinds("full_contract")
@pytest.mark.scenarios("write-file")
def test_the_write_happens_exactly_where_the_sandbox_allows_it(outcome: Outcome) -> None:
    written = WRITE_FILE in outcome.cwd_files
    lane_said_ok = [c for c in _completed(outcome).values() if c.get("exit_code") == 0 and c.get("status") in
                    ("completed", None)]
    if outcome.cell.sandbox == "read-only":
        assert not written, "codex's read-only sandbox let the command write a file"
        assert lane_said_ok == [], f"the lane reports a refused write as a success: {lane_said_ok}"
    else:
        assert written, f"the write was refused in {outcome.cell.sandbox}: {outcome.facts.commands}"
        assert lane_said_ok, "the file was written, but the lane reports no successful command"
