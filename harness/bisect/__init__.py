"""Bisect over published codex releases: which release first shows a behaviour (or first lost it).

``search`` (the pure binary search with git-bisect skip semantics), ``terms`` (old/new words and which
of them means "the selected cells miss their expectation"), ``judge`` (runs of a step → its verdict),
``log`` (``bisect.jsonl``, which makes a bisect resumable) and ``report`` (the closing summary with the
release notes and compare links). The container work is the CLI's (:mod:`harness.cli.bisect`), so all
of this is testable with a fake step function.
"""

from harness.bisect.judge import RunCounts, StepOutcome, judge_runs
from harness.bisect.search import Search, Verdict, step_bound
from harness.bisect.terms import Terms, parse_terms

__all__ = ["RunCounts", "Search", "StepOutcome", "Terms", "Verdict", "judge_runs", "parse_terms", "step_bound"]
