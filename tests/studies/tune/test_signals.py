"""SIGTERM (a scheduler's eviction notice) does what Ctrl-C does: KeyboardInterrupt outside the tuner, the tuner's
own stop signal while it runs. The whole path, a real SIGTERM to a study's CLI mid-trial, is in
test_interrupt_resume.py (slow)."""

from __future__ import annotations

import os
import signal

import pytest

from studies.tune import signals


def test_sigterm_raises_keyboard_interrupt_and_the_old_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), signals.terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_is_forwarded_to_the_tuners_stop_signal():
    seen: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        with signals.terminate_as_interrupt(), signals.forward_sigterm(signal.SIGUSR1):
            os.kill(os.getpid(), signal.SIGTERM)  # no KeyboardInterrupt: the tuner's handler takes it
        assert seen == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, previous)
