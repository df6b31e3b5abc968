"""The search itself: releases oldest first, a verdict per tested release, the next one to test.

Like ``git bisect``: the oldest release must show the old term and the newest the new term (checked
first, by the caller); each probe is the untested release nearest the middle of the window between
the last old and the first new; a release that cannot be judged is skipped (``skip``) and the probe
moves to its nearest untested neighbour, so a skipped release never ends the search, it only widens
the answer ("the first new release is 0.142.1 or 0.142.2"). Without skips a window of n releases
needs at most ceil(log2(n - 1)) probes, so with both ends ceil(log2(n)) + 2 steps at most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["old", "new", "skip"]


def step_bound(n: int) -> int:
    """Most steps (end checks included) a search over ``n`` releases takes when nothing is skipped."""
    return math.ceil(math.log2(n)) + 2 if n > 1 else n


@dataclass
class Search:
    """State of one bisect over ``versions`` (oldest first)."""

    versions: Sequence[str]
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.versions) < 2:
            raise ValueError("a bisect needs at least two releases")
        self.index = {v: i for i, v in enumerate(self.versions)}

    def record(self, version: str, verdict: Verdict) -> None:
        if version not in self.index:
            raise ValueError(f"{version} is not in this bisect's range")
        self.verdicts[version] = verdict

    def window(self) -> tuple[int, int]:
        """(index of the last release known old, index of the first release known new) around the change.

        Before both ends are judged the window is the whole range.
        """
        news = [self.index[v] for v, d in self.verdicts.items() if d == "new"]
        hi = min(news) if news else len(self.versions) - 1
        olds = [self.index[v] for v, d in self.verdicts.items() if d == "old" and self.index[v] < hi]
        lo = max(olds) if olds else 0
        return lo, hi

    def next_probe(self) -> str | None:
        """The next release to test, or None when the window holds nothing untested."""
        lo, hi = self.window()
        untested = [i for i in range(lo + 1, hi) if self.versions[i] not in self.verdicts]
        if not untested:
            return None
        middle = (lo + hi) / 2
        return self.versions[min(untested, key=lambda i: (abs(i - middle), i))]

    @property
    def done(self) -> bool:
        return self.next_probe() is None

    def first_new(self) -> str:
        return self.versions[self.window()[1]]

    def last_old(self) -> str:
        return self.versions[self.window()[0]]

    def skipped_between(self) -> list[str]:
        """Releases inside the final window that were skipped: the change may be in any of them."""
        lo, hi = self.window()
        return [self.versions[i] for i in range(lo + 1, hi) if self.verdicts.get(self.versions[i]) == "skip"]

    def remaining_steps(self) -> int:
        """About how many probes are left (mozregression's "~N steps left")."""
        lo, hi = self.window()
        untested = sum(1 for i in range(lo + 1, hi) if self.versions[i] not in self.verdicts)
        return math.ceil(math.log2(untested + 1)) if untested else 0
