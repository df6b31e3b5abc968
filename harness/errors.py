"""One exception type for problems the user can fix.

The CLI turns a ``UserError`` into a single line on stderr and a non-zero exit; anything else is a bug
and keeps its traceback. Messages must name the problem *and* the fix, e.g.
``unknown version 9.9.9 on the npm registry: pick one from `npm view @openai/codex versions` ``.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with input or environment that the user can fix; message = problem + fix."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
