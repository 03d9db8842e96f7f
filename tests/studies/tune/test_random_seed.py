"""A random search of a plain space is Tune's variant generator: seeded by the study's `search_seed`, never by numpy's
global generator (which nothing seeds, so the same study drew other configurations each run)."""

from __future__ import annotations

import numpy as np
from ray.tune.experiment import Experiment

from search_spaces import LogUniform, Uniform
from studies.study import Study
from studies.tune.tuner import _samples, _searcher, _space
from trainables.config import TrainConfig


def _noop(config):
    pass


def draws(seed: int, tmp_path, numpy_global: int) -> list[tuple[float, float]]:
    study = Study(name="random_plain", profile="local", base=TrainConfig(epochs=2), search="random", num_samples=4,
                  space={"optim.lr": LogUniform(1e-3, 0.3), "optim.momentum": Uniform(0.5, 0.99)}, search_seed=seed)
    searcher, _ = _searcher(study, 2)
    searcher.add_configurations([Experiment("seeded", run=_noop, config=_space(study), num_samples=_samples(study),
                                            storage_path=str(tmp_path))])
    searcher.max_concurrent = 0
    np.random.seed(numpy_global)  # what another library did to the global generator must not matter
    out = []
    while (trial := searcher.next_trial()) is not None:
        out.append((trial.config["optim.lr"], trial.config["optim.momentum"]))
    return out


def test_the_search_seed_alone_decides_what_a_random_search_draws(tmp_path):
    first = draws(0, tmp_path / "a", numpy_global=1)
    assert len(first) == 4 and len(set(first)) == 4
    assert draws(0, tmp_path / "b", numpy_global=2) == first
    assert draws(1, tmp_path / "c", numpy_global=1) != first
