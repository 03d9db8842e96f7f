"""How a study ended, as an exit code and a closing line: 0 when every trial ended as a result (completed, or a
labelled stop such as early_stopped, diverged, collapsed, memory_growth, oom), 3 when any trial failed, 4 when its
surroundings failed under it (a full disk, a read-only flip, a vanished runs folder: its state is saved, --resume
continues it once they are fixed), 2 for bad input and 130 when interrupted.
"""

from __future__ import annotations

import errno
from collections import Counter
from dataclasses import dataclass

from hpstudy.schema import statuses, tags

EXIT_OK, EXIT_BAD_INPUT, EXIT_TRIALS_FAILED, EXIT_SURROUNDINGS, EXIT_INTERRUPTED = 0, 2, 3, 4, 130
# errnos of the surroundings, not of hpstudy: the disk or quota is full, the file system went read-only, a folder
# vanished, the device failed
_SURROUNDINGS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted",
                 errno.EROFS: "the file system is read-only", errno.ENOENT: "a file or folder vanished",
                 errno.EIO: "the device failed (I/O error)"}
# the same, as SQLite and other libraries put them in a message of their own exception type
_MESSAGES = {"database or disk is full": errno.ENOSPC, "no space left on device": errno.ENOSPC,
             "read-only file system": errno.EROFS, "readonly database": errno.EROFS}


def surroundings_failure(err: BaseException) -> str | None:
    """One line for an error of the study's surroundings anywhere in `err`'s chain, else None (a bug: traceback).
    An OSError's errno decides first; else a message that says so (SQLite's "database or disk is full", or the
    text of an error a Ray process raised), quoted by its line that says it."""
    chain: list[BaseException] = []
    while err is not None and all(err is not e for e in chain):
        chain.append(err)
        err = err.__cause__ or err.__context__
    for e in chain:
        if isinstance(e, OSError) and e.errno in _SURROUNDINGS:
            where = f" ({e.filename})" if e.filename else ""
            return f"{_SURROUNDINGS[e.errno]}{where}: {e.strerror or e}"
    for e in chain:
        for line in str(e).splitlines():
            code = next((c for m, c in _MESSAGES.items() if m in line.lower()), None)
            if code is not None:
                return f"{_SURROUNDINGS[code]}: {line.strip()[:200]}"
    return None


class PretrainFailed(RuntimeError):
    """The pretraining ended in a state no trial should start from (diverged, collapsed, out of memory): exit 3."""


@dataclass(frozen=True)
class Outcome:
    total: int
    failed: list[str]  # the reason of each failed trial, in the order the trials ran
    ended: int  # trials that ended (as a result or failed); not running or interrupted

    @classmethod
    def of(cls, trials: list[tuple[str, str]]) -> "Outcome":
        """From (status, reason) per trial."""
        return cls(len(trials), [reason or "no reason recorded" for status, reason in trials
                                 if status == statuses.FAILED],
                   sum(status not in (statuses.RUNNING, statuses.INTERRUPTED) for status, _ in trials))

    @property
    def exit_code(self) -> int:
        return EXIT_TRIALS_FAILED if self.failed else EXIT_OK

    @property
    def status(self) -> str:
        """The study's own status: failed only when no trial gave a result."""
        return statuses.FAILED if self.failed and len(self.failed) == self.total else statuses.COMPLETED

    def tags(self) -> dict[str, str]:
        return {tags.FAILED_TRIALS: f"{len(self.failed)} of {self.total}"} if self.failed else {}

    def lines(self) -> list[str]:
        """'k of n trials failed:' and the first reason of each distinct error, with how many trials had it."""
        if not self.failed:
            return []
        out = [f"{len(self.failed)} of {self.total} trials failed:"]
        for reason, n in Counter(self.failed).items():  # first-seen order
            out.append(f"  {reason}" + (f"  ({n} trials)" if n > 1 else ""))
        return out
