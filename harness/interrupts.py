"""Ctrl-C and SIGTERM, handled so that stopping never loses what was already done.

Three modes, all for the main thread (signal handlers can only be installed there; elsewhere each
helper is a no-op):

* :func:`terminate_as_interrupt` — for a whole command: SIGTERM (a cancelled CI job) raises
  ``KeyboardInterrupt`` like Ctrl-C, so ``finally`` blocks run (a half-built rootfs is removed, a
  download's scratch dir deleted) instead of the process dying where it stands.
* :class:`StopRequests` — while a run's containers work and its reports are written: every SIGINT or
  SIGTERM only sets an event that the runner polls. Nothing is ever raised in the middle of cleaning
  up or writing, so a second (or tenth) Ctrl-C 50 ms after the first cannot lose results.json.
* :func:`deferred` — around a short cleanup that must finish (removing a rootfs): signals that arrive
  inside are held and re-raised as one ``KeyboardInterrupt`` afterwards.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _handlers(handler: Callable[[int, FrameType | None], Any], signals: tuple[int, ...] = SIGNALS) -> Iterator[None]:
    if not _main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises ``KeyboardInterrupt`` (as SIGINT already does) for the duration of the block."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    with _handlers(interrupt, (signal.SIGTERM,)):
        yield


class StopRequests:
    """While active, SIGINT/SIGTERM set :attr:`event` instead of raising; ``note`` is told about each.

    ``note(count)`` runs in the main thread, inside the signal handler: keep it to one short print.
    """

    def __init__(self, note: Callable[[int], None] | None = None) -> None:
        self.event = threading.Event()
        self.count = 0
        self._note = note
        self._stack: list[Any] = []

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        self.event.set()
        if self._note is not None:
            with contextlib.suppress(Exception):  # a print to a closed terminal must not break the stop
                self._note(self.count)

    def __enter__(self) -> StopRequests:
        cm = _handlers(self._handler)
        cm.__enter__()
        self._stack.append(cm)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.pop().__exit__(None, None, None)

    @property
    def requested(self) -> bool:
        return self.event.is_set()


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM during the block; if any arrived, raise ``KeyboardInterrupt`` after it."""
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    with _handlers(hold):
        yield
    if held:  # only reached when the block itself raised nothing
        raise KeyboardInterrupt
