"""SIGTERM does what Ctrl-C does: what a batch scheduler or Kubernetes sends before it evicts a study's process.

Outside the trials (Ray starting, pretraining, the report) it raises KeyboardInterrupt, as Ctrl-C does; while the
tuner runs, `forward_sigterm` hands it to the tuner's own stop handler (Ray Tune stops on SIGUSR1 as on SIGINT:
it saves the experiment state and returns), so open trials are marked interrupted and the resume command printed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def _handler(signum: int, handler) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def terminate_as_interrupt() -> AbstractContextManager[None]:
    """While open, SIGTERM raises KeyboardInterrupt in the main thread."""
    return _handler(signal.SIGTERM, _interrupt)


def forward_sigterm(to: int) -> AbstractContextManager[None]:
    """While open, SIGTERM is re-raised as signal `to` (whose handler is the tuner's)."""
    return _handler(signal.SIGTERM, lambda signum, frame: signal.raise_signal(to))
