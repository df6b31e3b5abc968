"""A bisect from start to end: both ends checked first, then the search, every step logged as it ends.

The container work is one function, ``step(version) -> StepOutcome``, handed in by the CLI, so the whole
procedure (end checks and their refusals, skips, resuming from the log, the report) runs in unit tests
with a fake step function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.bisect.judge import StepOutcome
from harness.bisect.log import BisectLog
from harness.bisect.report import summarize
from harness.bisect.search import Search, Verdict
from harness.bisect.terms import Terms
from harness.errors import UserError
from harness.matrix.load import clip


class Bisector:
    """Ends first, then binary search; every step logged as it ends. ``step`` is the only container work."""

    def __init__(self, versions: list[str], terms: Terms, step: Callable[[str], StepOutcome], log: BisectLog,
                 earlier: list[StepOutcome], progress: Callable[[str], None]) -> None:
        self.search = Search(versions)
        self.terms = terms
        self.step_fn = step
        self.log = log
        self.progress = progress
        self.steps: list[StepOutcome] = []
        self.known = {s.version: s for s in earlier if s.version in self.search.index}

    def judge(self, version: str) -> StepOutcome:
        outcome = self.known.get(version)
        if outcome is None:
            outcome = self.step_fn(version)
            self.log.append(outcome.to_json())
        self.steps.append(outcome)
        self.search.record(version, outcome.verdict)
        self._progress(outcome)
        return outcome

    def run(self, params: dict[str, Any]) -> dict[str, Any]:
        first, last = self.search.versions[0], self.search.versions[-1]
        ends: tuple[tuple[str, str, Verdict], ...] = ((first, "--good", "old"), (last, "--bad", "new"))
        for version, flag, want in ends:
            outcome = self.judge(version)
            if outcome.verdict == "skip":
                raise UserError(f"{flag} {version} could not be judged ({clip(outcome.reason, 200)}): "
                                "pick another release for that end")
            if outcome.verdict != want:
                word = self.terms.word(outcome.verdict)
                hint = ("pick an older --good, or name the terms the other way round (--terms "
                        f"{self.terms.new},{self.terms.old})" if flag == "--good" else "pick a newer --bad")
                raise UserError(f"{flag} {version} is {word}, not {self.terms.word(want)}"
                                f"{': ' + clip(outcome.detail, 200) if outcome.detail else ''}: {hint}")
        while (probe := self.search.next_probe()) is not None:
            self.judge(probe)
        return summarize(self.search, self.steps, self.terms, params)

    def _progress(self, s: StepOutcome) -> None:
        lo, hi = self.search.window()
        v = self.search.versions
        where = "read back" if s.resumed else f"{s.duration_s:.0f} s"
        runs = f", runs: {s.counts}" if s.container_runs > 1 or s.counts.error else ""
        detail = f" — {clip(s.detail or s.reason, 160)}" if (s.detail or s.reason) else ""
        self.progress(
            f"step {len(self.steps)}: {s.version}: {self.terms.word(s.verdict)} ({where}{runs})"
            f"{detail}; window {v[lo]}..{v[hi]} ({hi - lo + 1} releases, ~{self.search.remaining_steps()} "
            "steps left)")
