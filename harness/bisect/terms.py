"""The words of a bisect (``--terms old,new``) and what they mean for the selected cells.

By default the old term is ``good`` (every selected cell meets its expectation) and the new term ``bad``
(some cell misses it): bisect finds a regression. To find a fix, name terms whose new word means the
cell meets its expectation (``--terms broken,fixed``); to ask when a cell started to hold the native
contract, ``--expect native --terms refused,holds``. Which word means "meets" is read from a small
vocabulary, so a typo or an ambiguous pair is a one-line error rather than a bisect in the wrong
direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.bisect.search import Verdict
from harness.errors import UserError

#: Words that say "the selected cells meet their expectation" / "…miss it".
MEETS = frozenset({"good", "fixed", "holds", "works", "working", "passes", "pass", "ok", "met", "meets", "native",
                   "supported"})
MISSES = frozenset({"bad", "broken", "fails", "fail", "failing", "missed", "misses", "regressed", "refused",
                    "missing", "unsupported", "lost"})
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,30}")  # fullmatch


@dataclass(frozen=True)
class Terms:
    old: str = "good"
    new: str = "bad"
    new_misses: bool = True  # the new term means: a selected cell missed its expectation

    def verdict(self, missed: bool) -> Verdict:
        return "new" if missed == self.new_misses else "old"

    def word(self, verdict: Verdict) -> str:
        return {"old": self.old, "new": self.new, "skip": "skip"}[verdict]

    @property
    def finds(self) -> str:
        return "regression" if self.new_misses else "fix"


def parse_terms(text: str | None) -> Terms:
    if text is None:
        return Terms()
    words = [w.strip() for w in text.split(",")]
    if len(words) != 2 or not all(_WORD.fullmatch(w) for w in words) or words[0].lower() == words[1].lower():
        raise UserError(f"--terms {text!r}: give two different words, OLD,NEW, e.g. good,bad or broken,fixed")
    old, new = words
    lo, ln = old.lower(), new.lower()
    if {lo, ln} <= MEETS or {lo, ln} <= MISSES:
        raise UserError(f"--terms {text!r}: both words mean the same; pair one of {', '.join(sorted(MEETS))} "
                        f"with one of {', '.join(sorted(MISSES))}")
    if ln in MISSES or lo in MEETS:
        return Terms(old, new, new_misses=True)
    if ln in MEETS or lo in MISSES:
        return Terms(old, new, new_misses=False)
    raise UserError(f"--terms {text!r}: cannot tell which word means the cell meets its expectation: use one of "
                    f"{', '.join(sorted(MEETS))} and one of {', '.join(sorted(MISSES))}")
