"""A trial's steady epoch time and throughput: running means that leave out each run's first epoch, its warm-up, so a
config whose trials started in fresh processes does not look slower (the overhead table compares these).
"""

from __future__ import annotations

from typing import Any

EPOCH_S, SAMPLES_PER_S = "sys/epoch_s", "sys/samples_per_s"  # what each epoch measured
STEADY = {EPOCH_S: "sys/epoch_s_steady", SAMPLES_PER_S: "sys/samples_per_s_steady"}  # their running steady means


class SteadyMeans:
    """Sums of the epochs' figures, warm-up epochs (each run's first: a fresh trial's and a resumed one's) apart.

    A process's first epoch pays for first allocations, thread pools and reads of the data: in the local
    ses_beta_sweep on 2 cores, 3.4 s against 2.0 s later from a fresh clone, 0.1-0.3 s more with warm caches.

    A trial with steady epochs reports their mean; one with warm-up epochs only (a single epoch, or a resume after
    every epoch) reports the mean of those, as there is nothing else it measured. The sums travel in the checkpoint.
    """

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        empty = {"n": 0, **dict.fromkeys(STEADY, 0.0)}
        self._sums = {part: dict((state or {}).get(part, empty)) for part in ("warm_up", "steady")}
        self._warm = True  # the next epoch is this run's first

    def add(self, metrics: dict[str, Any]) -> dict[str, float]:
        """Count one epoch's `sys/epoch_s` and `sys/samples_per_s`; the running means (STEADY keys) after it."""
        sums = self._sums["warm_up" if self._warm else "steady"]
        self._warm = False
        sums["n"] += 1
        for key in STEADY:
            sums[key] += float(metrics[key])
        used = self._sums["steady"] if self._sums["steady"]["n"] else self._sums["warm_up"]
        return {STEADY[key]: used[key] / used["n"] for key in STEADY}

    def state_dict(self) -> dict[str, Any]:
        return {part: dict(sums) for part, sums in self._sums.items()}
