"""The reader is checked, not trusted: on every build, canary rows that claude_team's readers drop are
mixed into the cell's real transcript, and the strict reader must drop exactly those, each by its rule,
and keep every real row and the canaries the real readers keep.

Without this, a reader weakened by a bug (one that keeps a row with an empty or null uuid) changes no
verdict, because the lane always writes good rows (:mod:`harness.lane.reader_canary`).
"""

from __future__ import annotations

import json

import pytest

from harness.lane.reader import read_transcript
from harness.lane.reader_canary import canaries, interleave
from harness.suite.cellrun import Outcome

#: judged on the python lane's own view (its mapped events, projection and verdicts): a lane without
#: the projection capability gets these as not applicable (harness.lanes.catalog)
pytestmark = pytest.mark.needs("projection")


@pytest.mark.scenarios("ok")
def test_reader_drops_every_canary_by_its_rule(outcome: Outcome) -> None:
    rows = outcome.result.transcript
    birds = canaries(rows)
    data, where = interleave(rows, birds)
    read = read_transcript(data)
    dropped = dict(read.dropped)
    for line, bird in where.items():
        if bird.rule is None:
            assert line not in dropped, f"canary {bird.name!r} ({bird.source}) kept by the real readers, dropped: " \
                                        f"{dropped.get(line)}"
        else:
            assert line in dropped, f"canary {bird.name!r} ({bird.source}) must be dropped ({bird.rule}), was kept"
            assert dropped[line].startswith(bird.rule), f"canary {bird.name!r}: dropped as {dropped[line]!r}"
    assert set(dropped) == {line for line, bird in where.items() if bird.rule is not None}, (
        f"real rows dropped: {[(n, r) for n, r in read.dropped if n not in where]}")
    lines = data.decode("utf-8").split("\n")[:-1]
    want = [json.loads(text) for number, text in enumerate(lines, start=1)
            if number not in where or where[number].rule is None]
    assert read.kept == want, "the reader changed, lost or reordered rows it must keep"
