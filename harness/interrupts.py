"""Ctrl-C and SIGTERM, handled so that stopping never loses what was already done.

Interrupts are idempotent: the first SIGINT or SIGTERM stops the command, any later one is ignored
(with a note while work is still being cleaned up), so a second Ctrl-C 50 ms after the first — or a
CI runner that sends SIGTERM twice — cannot cut a cleanup or a report short. Three tools, all for the
main thread (signal handlers can only be installed there; elsewhere each is a no-op):

* :func:`command_signals` — around a whole command: the first signal raises ``KeyboardInterrupt``
  (SIGTERM included, so ``finally`` blocks run: a half-built rootfs is removed, a download's scratch
  dir deleted), later ones are ignored. For the real process the handler stays installed after the
  command returned, so a late signal cannot turn a finished run into a traceback at exit.
* :class:`StopRequests` — while a run's containers work and its reports are written: every signal only
  sets an event that the runner polls. Nothing is raised in the middle of cleaning up or writing.
* :func:`deferred` — around a short cleanup that must finish (removing a rootfs): a first signal that
  arrives inside is held and raised as ``KeyboardInterrupt`` afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    """One process, one stop: set by the first signal any of the tools below saw."""

    stopping = False


def stopping() -> bool:
    """True once a stop was asked for (later signals are then ignored)."""
    return _State.stopping


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _handlers(handler: Callable[[int, FrameType | None], Any], *, restore: bool = True) -> Iterator[None]:
    if not _main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        if restore:
            for sig, old in previous.items():
                signal.signal(sig, old)


def _say(line: str) -> None:
    """A raw write: this runs inside a signal handler, where rich's lock may be held by the interrupted frame."""
    with contextlib.suppress(OSError):
        os.write(2, line.encode())


@contextmanager
def command_signals(*, restore: bool = True) -> Iterator[None]:
    """The first SIGINT/SIGTERM raises ``KeyboardInterrupt``; later ones are ignored.

    ``restore=False`` (the real process) ignores every signal after the block (``SIG_IGN``, which
    also holds while the interpreter shuts down, when Python-level handlers are already gone): the
    command is over, the process is about to exit with its own code.
    """
    running = True

    def handler(signum: int, frame: FrameType | None) -> None:
        if _State.stopping:
            if running:
                _say("codex-matrix: already stopping: cleaning up, please wait\n")
            return
        _State.stopping = True
        raise KeyboardInterrupt

    with _handlers(handler, restore=restore):
        try:
            yield
        finally:
            running = False
            if restore:
                _State.stopping = False
            else:
                _State.stopping = True
                if _main_thread():
                    for sig in SIGNALS:
                        signal.signal(sig, signal.SIG_IGN)


class StopRequests:
    """While active, SIGINT/SIGTERM set :attr:`event` instead of raising; ``note`` is told about each.

    ``note(count)`` runs in the main thread, inside the signal handler: keep it to one raw write.
    """

    def __init__(self, note: Callable[[int], None] | None = None) -> None:
        self.event = threading.Event()
        self.count = 0
        self._note = note
        self._stack: list[Any] = []

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        _State.stopping = True
        self.event.set()
        if self._note is not None:
            with contextlib.suppress(Exception):  # a print to a closed terminal must not break the stop
                self._note(self.count)

    def __enter__(self) -> StopRequests:
        cm = _handlers(self._handler)
        cm.__enter__()
        self._stack.append((cm, _State.stopping))
        return self

    def __exit__(self, *exc: object) -> None:
        cm, before = self._stack.pop()
        cm.__exit__(None, None, None)
        _State.stopping = before  # what was asked for here was handled here (the run stopped)

    @property
    def requested(self) -> bool:
        return self.event.is_set()


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM during the block; a first stop request that arrived is raised after it."""
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    already = _State.stopping
    with _handlers(hold):
        yield
    if held and not already:  # only reached when the block itself raised nothing
        _State.stopping = True
        raise KeyboardInterrupt
