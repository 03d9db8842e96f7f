"""The study's one progress line: trials done/running/queued of the total, elapsed, ETA, the best so far.

On a terminal it is rewritten in place (`\\r`); into a file or pipe it is a plain line on each trial's end and at
most every `every_s` seconds otherwise, so a log stays short and tests can read it.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

_CLEAR = "\r\x1b[K"  # carriage return, erase to the end of the line


def duration(seconds: float | None) -> str:
    """'45s', '3m05s', '2h04m'; '?' when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def progress_line(*, done: int, running: int, total: int, elapsed_s: float, eta_s: float | None, metric: str,
                  best: float | None = None, best_label: str = "") -> str:
    """'trials 3/10 done, 2 running, 5 queued | 4m10s elapsed, ETA 9m40s | best val/acc 0.9123 (lr=0.01 seed=0)'."""
    queued = max(0, total - done - running)
    shown = "—" if best is None else f"{best:.4g}" + (f" ({best_label})" if best_label else "")
    return (f"trials {done}/{total} done, {running} running, {queued} queued | {duration(elapsed_s)} elapsed, "
            f"ETA {duration(eta_s)} | best {metric} {shown}")


class Progress:
    """Counts trials as their events arrive; `print` writes another line without tearing the progress line."""

    def __init__(self, *, total: int, metric: str, mode: str, done: int = 0, best: tuple[float, str] | None = None,
                 stream: TextIO | None = None, tty: bool | None = None, every_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`done`, `best`: (value, label) of a resumed study's earlier session."""
        self.total, self.metric, self.sign = total, metric, 1.0 if mode == "max" else -1.0
        self.done_before = done
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.every_s, self.clock = every_s, clock
        self.start = clock()
        self._last_shown = -math.inf
        self._drawn = False  # a \r line is on screen
        self._running: set[str] = set()
        self._ended: set[str] = set()
        self._latest: dict[str, tuple[float, str]] = {}  # running trial -> (its latest value of the metric, label)
        self._best_ended: tuple[float, str] | None = None  # the best of the ended trials' (an earlier session's too)
        self._fold(best)

    @property
    def done(self) -> int:
        return self.done_before + len(self._ended)

    def best(self) -> tuple[float, str] | None:
        """The best of the trials' latest values (an unfinished trial's counts as it stands)."""
        values = [v for v in (*self._latest.values(), self._best_ended) if v is not None and math.isfinite(v[0])]
        return max(values, key=lambda v: self.sign * v[0], default=None)

    def _fold(self, value: tuple[float, str] | None) -> None:
        """Keep one best of the ended trials, so a result costs the same in a study's 10,000th trial as in its first."""
        if value is not None and math.isfinite(value[0]) and (
                self._best_ended is None or self.sign * value[0] > self.sign * self._best_ended[0]):
            self._best_ended = value

    def eta_s(self) -> float | None:
        """Remaining trials at the rate trials ended this session; unknown before the first one has."""
        ended, remaining = len(self._ended), max(0, self.total - self.done)
        if remaining == 0:
            return 0.0
        return (self.clock() - self.start) * remaining / ended if ended else None

    def line(self) -> str:
        best = self.best()
        return progress_line(done=self.done, running=len(self._running), total=self.total,
                             elapsed_s=self.clock() - self.start, eta_s=self.eta_s(), metric=self.metric,
                             best=best[0] if best else None, best_label=best[1] if best else "")

    def started(self, trial_id: str) -> None:
        self._running.add(trial_id)
        self._ended.discard(trial_id)  # a retried trial runs again
        self._show(force=False)

    def result(self, trial_id: str, value: float | None, label: str) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._latest[trial_id] = (float(value), label)
        self._show(force=False)

    def ended(self, trial_id: str) -> None:
        self._running.discard(trial_id)
        self._fold(self._latest.pop(trial_id, None))
        self._ended.add(trial_id)
        self._show(force=True)

    def print(self, text: str) -> None:
        """A line of its own (a per-epoch line, a failed trial); the progress line is drawn again under it."""
        if self._drawn:
            self.stream.write(_CLEAR)
            self._drawn = False
        self.stream.write(text + "\n")
        if self.tty:
            self._show(force=True)
        self.stream.flush()

    def close(self) -> None:
        """End the rewritten line, so what follows starts on a line of its own."""
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        self.stream.flush()

    def _show(self, *, force: bool) -> None:
        if self.tty:  # cut to the terminal's width: a wrapped line cannot be rewritten in place
            self.stream.write(_CLEAR + self.line()[:shutil.get_terminal_size().columns - 1])
            self._drawn = True
        elif force or self.clock() - self._last_shown >= self.every_s:
            self.stream.write(self.line() + "\n")
            self._last_shown = self.clock()
        self.stream.flush()
