"""What a study is: a base config per profile, a space to explore, how to search it and what to optimize.

Study files build one of these in `get_study(profile)`; nothing here knows about Ray.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_spaces import Grid, Variants
from trainables.config import TrainConfig

SEARCHES = ("grid", "tpe", "random")


@dataclass(frozen=True)
class Asha:
    grace_period: int = 1  # epochs every trial gets before it can be stopped
    reduction_factor: int = 2  # keep the top 1/reduction_factor at each rung


@dataclass(frozen=True)
class Study:
    name: str
    profile: str  # local | full
    base: TrainConfig  # fixed hyperparameters of every trial
    space: dict[str, Any]  # override key -> search_spaces parameter (or a constant)
    search: str = "grid"  # grid | tpe | random
    metric: str = "val/acc"  # the one metric ASHA and the searcher optimize
    mode: str = "max"
    num_samples: int = 1  # grid: repeats of the whole grid; tpe/random: number of trials
    asha: Asha | None = None  # None: every trial runs all its epochs (needed for seed-paired comparisons)
    baseline: str | None = None  # variant name the table compares against
    gpus_per_trial: float = 0.0
    cpus_per_trial: float = 1.0
    search_seed: int = 0  # seeds the sampler, so a search is reproducible
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise ValueError(f"study {self.name}: search {self.search!r} is not one of {', '.join(SEARCHES)}")
        if self.mode not in ("min", "max"):
            raise ValueError(f"study {self.name}: mode {self.mode!r} is not 'min' or 'max'")

    def total_trials(self) -> int:
        """Trials a complete run of this study makes: grid points x num_samples, or num_samples for a search."""
        if self.search != "grid":
            return self.num_samples
        points = 1
        for value in self.space.values():
            if isinstance(value, Variants):
                points *= len(value.configs)
            elif isinstance(value, Grid):
                points *= len(value.values)
        return points * self.num_samples
