"""How a study ended, as an exit code and a closing line: 0 when every trial ended as a result (completed, or a
labelled stop such as early_stopped, diverged, collapsed, memory_growth, oom), 3 when any trial failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hpstudy.schema import statuses, tags

EXIT_OK, EXIT_BAD_INPUT, EXIT_TRIALS_FAILED, EXIT_INTERRUPTED = 0, 2, 3, 130


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
